using System.Net;

namespace Foobar.Db.Cluster;

/// <summary>One member of the cluster: a db server's name and where its mariadbd listens.</summary>
public sealed record DbNode(string Name, IPAddress Address, int Port)
{
    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Address}:{Port})";
}
