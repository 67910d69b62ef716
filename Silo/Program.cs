using OrleansBus.Silo.Api;
using OrleansBus.Silo.Hosting;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddBusSilo();
var app = builder.Build();
app.UseMiddleware<RawCategoryNameCheck>();
app.MapBusApi();
app.MapFallback(FallbackEndpoint.Handle);
try
{
    app.Run();
}
catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
{
    // SIGTERM/Ctrl+C arrived while the silo was still starting (recovery or binding): a requested stop, not a crash.
}

/// <summary>Entry point type, public so WebApplicationFactory-based tests can host the silo in-process.</summary>
public partial class Program;
