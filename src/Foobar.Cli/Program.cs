using System.CommandLine;
using Foobar.Cli.Commands;
using Foobar.Cli.Output;

Terminal.Configure();

var root = new RootCommand("foobar: run the www.foobar.com infrastructure, every server its own process")
{
    UpCommand.Create(),
    StatusCommand.Create(),
    DownCommand.Create(),
    ServerActionCommand.Create("kill", "SIGKILL a server to test failure; it stays down until 'foobar start'"),
    ServerActionCommand.Create("stop", "Stop a server gracefully; it stays down until 'foobar start'"),
    ServerActionCommand.Create("start", "Start a stopped or killed server and wait until it is ready"),
    ServerActionCommand.Create("restart", "Stop a server gracefully and start it again"),
    DbCommand.Create(),
    DrainCommand.Create("lb", "web"),
    DrainCommand.Create("web", "app"),
    RolloutCommand.Create(),
    ReloadCommand.Create(),
    ServeCommand.Create(),
    ControlPlaneCommand.Create(),
};
root.Options.Add(CommonOptions.State);

// Commands that must stop gracefully handle SIGINT/SIGTERM themselves (ShutdownSignal, the web host).
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
