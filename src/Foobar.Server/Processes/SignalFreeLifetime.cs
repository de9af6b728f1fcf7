using Microsoft.Extensions.Hosting;

namespace Foobar.Server.Processes;

/// <summary>
/// A host lifetime that leaves SIGTERM and SIGINT alone (the default one stops the host at once):
/// <see cref="ServerHost"/> takes them itself (<see cref="ShutdownSignal"/>) so that a web or app
/// server leaves rotation before its host stops.
/// </summary>
internal sealed class SignalFreeLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
