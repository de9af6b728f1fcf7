namespace Foobar.Topology.Loading;

/// <summary>A topology file could not be loaded; <see cref="Problems"/> lists every reason found.</summary>
public sealed class TopologyException : Exception
{
    /// <summary>Creates the exception from one or more problems.</summary>
    public TopologyException(IReadOnlyList<TopologyProblem> problems)
        : base(string.Join(Environment.NewLine, problems))
    {
        Problems = problems;
    }

    /// <summary>Every problem found, in file order where known.</summary>
    public IReadOnlyList<TopologyProblem> Problems { get; }
}
