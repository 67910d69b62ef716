using OrleansBus.Silo.Storage;

namespace OrleansBus.Silo.Api;

/// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: storage recovered and taking writes.</summary>
public static class HealthEndpoints
{
    public static IResult Live() => Results.Text("live\n");

    public static IResult Ready(LogStore store) =>
        store.IsReady ? Results.Text("ready\n") : BusErrors.NotReady();
}
