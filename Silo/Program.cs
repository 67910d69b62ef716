using OrleansBus.ServiceDefaults;
using OrleansBus.Silo.Api;
using OrleansBus.Silo.Hosting;

// Content root = the app's own folder, not the working directory: its appsettings.json then applies wherever the process
// is started from (per-request framework logging off by default: at Information it cost a console line per request),
// and the configuration file watcher watches that folder, never the working directory — which holds ./data, whose
// every chunk write it would otherwise be woken for.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
SiloSlot.ClaimIfAsked(builder); // Bus:SiloId=slot (identical replicas): before anything reads the id or the folder
builder.AddBusSilo();
builder.AddServiceDefaults();
var app = builder.Build();
app.UseBusSilo();
try
{
    app.Run();
}
catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
{
    // A taken port is an operator's mistake, not a crash: one line that says what to do, exit 1 (not a stack trace and SIGABRT).
    Console.Error.WriteLine($"orleansbus silo: {e.Message} (another silo (or program) has it; pick a free one with --urls).");
    return 1;
}
catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
{
    // SIGTERM/Ctrl+C arrived while the silo was still starting (recovery or binding): a requested stop, not a crash.
}
return 0;

/// <summary>Entry point type, public so WebApplicationFactory-based tests can host the silo in-process.</summary>
public partial class Program;
