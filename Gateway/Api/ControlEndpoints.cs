using System.Text.Json.Serialization.Metadata;
using OrleansBus.Contracts;
using OrleansBus.Contracts.Grains;
using OrleansBus.Gateway.Routing;

namespace OrleansBus.Gateway.Api;

/// <summary>
/// The control half of API v1 as grain calls through the gateway's Orleans client (<see cref="IBusEdgeGrain"/>): ack,
/// nack, seek, lag, the category and chunk listings, category settings and deletion. Small calls like these are cheaper as grain
/// calls than as forwarded HTTP requests (ARCHITECTURE.md); bytes — produce, poll, raw reads — stay forwarded
/// (<see cref="ForwardingEndpoint"/>). Names and bodies are judged here before any grain is called, with the silos'
/// wording; the grain answers with the silos' own endpoints, so replies and refusals read the same either way, and
/// <c>Bus-Silo</c> names the silo that ran the call. Calls Orleans refused before a silo ran them go again through
/// another key (another silo's Orleans gateway) for up to <see cref="RejectedCallRetry.Budget"/>; reads and PUT also after
/// a silo went away mid-call. What still fails answers 503 <c>cluster_unavailable</c> when no silo ran it, 504
/// <c>outcome_unknown</c> when one may have, never a 500.
/// </summary>
internal sealed partial class ControlEndpoints(SiloDirectory directory, ClusterConnection connection, ILogger<ControlEndpoints> logger)
{
    // A silo refusing as not_ready (starting or stopping) ran nothing: ask another, up to this many in all.
    private const int NotReadyAttempts = 3;

    // The edge grain is a stateless worker; its key only decides which silo's Orleans gateway carries the call.
    private const int DoorKeys = 64;
    private int _nextKey = Random.Shared.Next();

    /// <summary>Maps the control routes; they win over the forwarding catch-all for their methods only.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        // Names first, from the raw target as the forwarding path judges them: a bad one never reaches a grain.
        static RequestDelegate Handle(Func<ControlEndpoints, HttpContext, Task> handler) => async context =>
        {
            if (!await ForwardingEndpoint.RefuseBadNamesAsync(context))
                await handler(context.RequestServices.GetRequiredService<ControlEndpoints>(), context);
        };
        static string Route(HttpContext c, string name) => (string)c.Request.RouteValues[name]!;
        const string category = "/v1/categories/{category}";
        const string group = category + "/groups/{group}";
        var json = GatewayJsonContext.Default;

        app.MapGet("/v1/categories", Handle((e, c) => e.ReplyAsync(c, door => door.ListCategoriesAsync(), json.CategoryInfoArray, retryAfterFailure: true)));
        app.MapGet(category, Handle((e, c) => e.ReplyAsync(c, door => door.GetCategoryAsync(Route(c, "category")), json.CategoryInfo, retryAfterFailure: true)));
        app.MapPut(category, Handle((e, c) => e.PutCategoryAsync(c, Route(c, "category"))));
        // Starting a deletion twice reports the same deletion: safe to send again after any failure.
        app.MapDelete(category, Handle((e, c) => e.ReplyAsync(c, door => door.DeleteCategoryAsync(Route(c, "category")), json.CategoryInfo,
            retryAfterFailure: true, successStatus: StatusCodes.Status202Accepted)));
        app.MapGet(category + "/chunks", Handle((e, c) => e.ReplyAsync(c, door => door.ListChunksAsync(Route(c, "category")), json.ChunkInfoArray, retryAfterFailure: true)));
        app.MapGet(group, Handle((e, c) => e.ReplyAsync(c, door => door.GetGroupAsync(Route(c, "category"), Route(c, "group")), json.GroupInfo, retryAfterFailure: true)));
        app.MapPost(group + "/seek", Handle((e, c) => e.SeekAsync(c, Route(c, "category"), Route(c, "group"))));
        app.MapPost(group + "/ack", Handle((e, c) => e.AckAsync(c, Route(c, "category"), Route(c, "group"))));
        app.MapPost(group + "/nack", Handle((e, c) => e.NackAsync(c, Route(c, "category"), Route(c, "group"))));
    }

    private async Task PutCategoryAsync(HttpContext context, string category)
    {
        var request = context.Request;
        var (update, error) = await RequestBodies.ReadSettingsAsync(request.Body, request.ContentLength, request.ContentType,
            GatewayJsonContext.Default.CategorySettingsUpdate, context.RequestAborted);
        if (error is not null)
        {
            await GatewayErrors.Problem(error).ExecuteAsync(context);
            return;
        }
        // Settings are absolute values: applying the same PUT twice leaves the same settings, so it may be retried.
        await ReplyAsync(context, door => door.PutCategoryAsync(category, update!), GatewayJsonContext.Default.CategoryInfo, retryAfterFailure: true);
    }

    private async Task SeekAsync(HttpContext context, string category, string group)
    {
        if (await ReadAsync(context, GatewayJsonContext.Default.SeekRequest) is not { } seek)
            return;
        await ReplyAsync(context, door => door.SeekAsync(category, group, seek), GatewayJsonContext.Default.GroupInfo, retryAfterFailure: false);
    }

    private async Task AckAsync(HttpContext context, string category, string group)
    {
        if (await ReadAsync(context, GatewayJsonContext.Default.AckRequest) is not { } ack)
            return;
        await SettleAsync(context, door => door.AckAsync(category, group, ack.Delivery ?? "", ack.Offset));
    }

    private async Task NackAsync(HttpContext context, string category, string group)
    {
        if (await ReadAsync(context, GatewayJsonContext.Default.NackRequest) is not { } nack)
            return;
        await SettleAsync(context, door => door.NackAsync(category, group, nack.Delivery ?? "", nack.DelayMs, nack.Reason));
    }

    // An ack or nack answers 204 when done (a null fault); not retried after a failure, as the lease may have been settled.
    private Task SettleAsync(HttpContext context, Func<IBusEdgeGrain, Task<BusFault?>> call) =>
        ReplyAsync(context, async door => new EdgeReply<BusFault>(await call(door), null, ""), json: null, retryAfterFailure: false);

    private async Task ReplyAsync<T>(HttpContext context, Func<IBusEdgeGrain, Task<EdgeReply<T>>> call, JsonTypeInfo<T>? json, bool retryAfterFailure,
        int successStatus = StatusCodes.Status200OK)
    {
        var aborted = context.RequestAborted;
        // Right after a silo dies, calls through its Orleans gateway fail until membership declares it dead (~2 s): each
        // retry takes another key, so another gateway connection. Reads and PUT may go again whatever failed.
        Func<Exception, bool> retryable = retryAfterFailure ? static e => e is OrleansException : RejectedCallRetry.NeverDelivered;
        for (var attempt = 1; ; attempt++)
        {
            if (directory.Live.Count == 0 || connection.Client is not { } client)
            {
                await GatewayErrors.NoLiveSilo(directory.All.Count).ExecuteAsync(context);
                return;
            }
            EdgeReply<T> reply;
            try
            {
                reply = await RejectedCallRetry.RunAsync(() => call(client.GetGrain<IBusEdgeGrain>(NextKey())).WaitAsync(aborted),
                    retryable: retryable, cancellationToken: aborted);
            }
            catch (OperationCanceledException) when (aborted.IsCancellationRequested)
            {
                return; // the client went away
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                Log.GrainCallFailed(logger, context.Request.Method, context.Request.Path, e.Message);
                if (RejectedCallRetry.NeverDelivered(e))
                {
                    context.Response.Headers.RetryAfter = "1";
                    await GatewayErrors.ClusterUnavailable(e.GetType().Name).ExecuteAsync(context);
                }
                else
                {
                    await GatewayErrors.OutcomeUnknown(e.GetType().Name).ExecuteAsync(context);
                }
                return;
            }
            if (reply.Fault is { } fault)
            {
                // A silo starting or stopping ran the call and refused it: nothing happened, another silo may serve.
                if (fault.Code == BusErrorCodes.NotReady && attempt < NotReadyAttempts)
                    continue;
                await WriteFaultAsync(context, fault, reply.Silo);
                return;
            }
            if (reply.Silo.Length > 0)
                context.Response.Headers[ForwardingEndpoint.SiloHeader] = reply.Silo;
            if (json is null)
                context.Response.StatusCode = StatusCodes.Status204NoContent;
            else
                await Results.Json(reply.Value, json, statusCode: successStatus).ExecuteAsync(context);
            return;
        }
    }

    private static async Task WriteFaultAsync(HttpContext context, BusFault fault, string silo)
    {
        if (silo.Length > 0)
            context.Response.Headers[ForwardingEndpoint.SiloHeader] = silo;
        if (fault.Status == StatusCodes.Status503ServiceUnavailable)
            context.Response.Headers.RetryAfter = "1";
        var problem = BusProblem.Of(fault.Status, fault.Code, fault.Title ?? fault.Code, fault.Detail, fault.Value, fault.Limit);
        await GatewayErrors.Problem(problem).ExecuteAsync(context);
    }

    private static async Task<T?> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> type)
        where T : class
    {
        var (body, error) = await RequestBodies.ReadObjectAsync(context.Request.Body, type, context.RequestAborted);
        if (error is not null)
            await GatewayErrors.Problem(error).ExecuteAsync(context);
        return body;
    }

    private int NextKey() => (int)((uint)Interlocked.Increment(ref _nextKey) % DoorKeys);

    private static partial class Log
    {
        [LoggerMessage(2210, LogLevel.Warning, "{Method} {Path}: the grain call failed ({Reason}); answered 503 cluster_unavailable or 504 outcome_unknown")]
        public static partial void GrainCallFailed(ILogger logger, string method, string path, string reason);
    }
}
