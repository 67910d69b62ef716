using OrleansBus.Gateway.Api;
using OrleansBus.Gateway.Hosting;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddBusGateway();
var app = builder.Build();
app.MapGateway();
try
{
    app.Run();
}
catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
{
    // SIGTERM/Ctrl+C during start-up: a requested stop, not a crash.
}

/// <summary>Entry point type, public so tests can host the gateway in-process.</summary>
public partial class Program;
