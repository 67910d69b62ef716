var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();
app.MapGet("/health/live", () => Results.Ok());
app.Run();

/// <summary>Entry point type, public so tests can host the gateway in-process.</summary>
public partial class Program;
