using System.Diagnostics;
using OrleansBus.Contracts;

namespace OrleansBus.Client;

/// <summary>
/// The client's spans, on an <see cref="ActivitySource"/> named <c>OrleansBus</c> like the servers' (add that source to a
/// service's tracing to see them). A produce starts a trace (or joins the caller's): its HTTP request carries it as
/// <c>traceparent</c> to the gateway, the gateway to the silo, the silo to its writer. Free when nobody listens:
/// <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null then.
/// </summary>
internal static class ClientTelemetry
{
    public const string SourceName = "OrleansBus";

    public static readonly ActivitySource Activities = new(SourceName);

    /// <summary>A producer span for one produce request to <paramref name="category"/>, or null when nobody listens.</summary>
    public static Activity? StartProduce(string category)
    {
        var activity = Activities.StartActivity("orleansbus.produce", ActivityKind.Producer);
        activity?.SetTag("orleansbus.category", category);
        return activity;
    }

    /// <summary>Records how the produce ended on its span.</summary>
    public static void Finish(Activity? activity, ProduceResult? result, Exception? failure)
    {
        if (activity is null)
            return;
        if (result is not null)
        {
            activity.SetTag("orleansbus.chunk", result.Chunk);
            activity.SetTag("orleansbus.messages", result.Messages);
        }
        if (failure is not null)
            activity.SetStatus(ActivityStatusCode.Error, failure.Message);
    }
}
