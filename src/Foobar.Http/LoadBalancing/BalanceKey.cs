using System.Net;

namespace Foobar.Http.LoadBalancing;

/// <summary>What of a request a policy may look at: the client's address and the URL path.</summary>
/// <param name="Client">The client's address; null when unknown.</param>
/// <param name="Path">The request's path, without the query.</param>
public readonly record struct BalanceKey(IPAddress? Client, string Path);
