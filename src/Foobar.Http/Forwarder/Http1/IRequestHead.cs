using System.IO.Pipelines;
using Foobar.Http.Backends;

namespace Foobar.Http.Forwarder.Http1;

/// <summary>A body-less request as <see cref="Http1Exchange"/> sends it: whatever holds it writes its head.</summary>
internal interface IRequestHead
{
    /// <summary>Whether the method is HEAD, whose response has no body whatever its headers say.</summary>
    bool IsHead { get; }

    /// <summary>Writes the request line and headers, with this hop's forwarding headers, for <paramref name="backend"/>.</summary>
    void Write(PipeWriter output, Backend backend);
}
