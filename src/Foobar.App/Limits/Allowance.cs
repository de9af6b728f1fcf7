using System.Net;

namespace Foobar.App.Limits;

/// <summary>Whose tokens a write takes, under which limit.</summary>
/// <param name="Client">The real client (<see cref="Foobar.Http.ClientAddress"/>).</param>
/// <param name="Limit">The site's limit.</param>
public readonly record struct Allowance(IPAddress Client, WriteLimit Limit);
