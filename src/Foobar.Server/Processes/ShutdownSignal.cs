using System.Runtime.InteropServices;

namespace Foobar.Server.Processes;

/// <summary>A token cancelled by SIGINT (Ctrl+C) or SIGTERM, for commands and servers that stop gracefully.</summary>
public sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    /// <summary>Takes over SIGINT and SIGTERM from now on: they cancel <see cref="Token"/> instead of ending the process.</summary>
    /// <param name="fromParent">
    /// This process's signals come from the Foobar process that started it, in a process group of
    /// its own that no terminal's Ctrl+C reaches (a server, the control plane): SIGINT is then taken
    /// over even when the process started with it ignored, as a shell's background job does —
    /// else a server's stop waited out its grace and ended in SIGKILL.
    /// </param>
    public ShutdownSignal(bool fromParent = false)
    {
        if (fromParent)
        {
            Signals.Unignore(Signals.Interrupt);
        }
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    /// <summary>Cancelled at the first SIGINT or SIGTERM.</summary>
    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _source.Dispose();
    }

    /// <summary>
    /// Whether the first signal was SIGINT (Ctrl+C; and the control plane's stop of a server it
    /// drained already): stop now. SIGTERM (a service manager, <c>kill</c>) asks a web or app
    /// server to leave rotation first.
    /// </summary>
    public bool Interrupted { get; private set; }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        if (!_source.IsCancellationRequested)
        {
            Interrupted = context.Signal == PosixSignal.SIGINT;
        }
        _source.Cancel();
    }
}
