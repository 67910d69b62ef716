using OrleansBus.ServiceDefaults;
using OrleansBus.Gateway.Api;
using OrleansBus.Gateway.Hosting;

// Content root = the app's own folder, not the working directory: its appsettings.json then applies wherever the process
// is started from (per-request framework logging off by default: at Information it cost a console line per request),
// and the configuration file watcher watches that folder, never the working directory — which holds ./data, whose
// every chunk write it would otherwise be woken for.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddBusGateway();
builder.AddServiceDefaults();
var app = builder.Build();
app.MapGateway();
app.MapDefaultEndpoints();
try
{
    app.Run();
}
catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    // A taken port is an operator's mistake, not a crash: one line that says what to do, exit 1 (not a stack trace and SIGABRT).
    Console.Error.WriteLine($"orleansbus gateway: {e.Message} (another gateway (or program) has it; pick a free one with --urls).");
    return 1;
}
catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
{
    // SIGTERM/Ctrl+C during start-up: a requested stop, not a crash.
}
return 0;

/// <summary>Entry point type, public so tests can host the gateway in-process.</summary>
public partial class Program;
