using OrleansBus.Silo.Api;
using OrleansBus.Silo.Hosting;
using OrleansBus.Silo.Metadata;
using OrleansBus.Silo.Storage;

var builder = WebApplication.CreateSlimBuilder(args);
builder.AddBusSilo();
var app = builder.Build();
app.UseMiddleware<RawCategoryNameCheck>();
app.MapBusApi();
app.MapFallback(FallbackEndpoint.Handle);
app.Run();

/// <summary>Entry point type, public so WebApplicationFactory-based tests can host the silo in-process.</summary>
public partial class Program;
