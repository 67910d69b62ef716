using System.Net;
using Microsoft.AspNetCore.Http.Features;
using OrleansBus.Contracts;
using Microsoft.Extensions.Options;
using OrleansBus.Gateway.Hosting;
using OrleansBus.Gateway.Routing;

namespace OrleansBus.Gateway.Api;

/// <summary>
/// Forwards one public-API request (<c>/v1/...</c> and the chukcha paths) to one live silo: same method, path and
/// query; the headers the API uses; the body streamed both ways, never buffered. Adds <c>Bus-Silo</c> naming the
/// silo that served. Picks the silo with <see cref="SiloPicker"/> and retries on another live silo only where that
/// cannot duplicate or lose anything:
/// <list type="bullet">
/// <item>any method, when the connection could not be established and no byte of the body was taken yet;</item>
/// <item>GET/HEAD/PUT (idempotent), also when the connection broke before response headers or the silo answered
/// 503 <c>not_ready</c>, again only if no body byte was taken (a streamed body cannot be replayed).</item>
/// </list>
/// At most one attempt per silo; nothing is retried once the response has started. Stateless and thread-safe.
/// </summary>
internal sealed partial class ForwardingEndpoint(
    SiloDirectory directory, SiloPicker picker, WriterSets writerSets, SiloClient client, IOptions<GatewayOptions> options, ILogger<ForwardingEndpoint> logger)
{
    /// <summary>Response header naming the silo that served (its id in Orleans membership).</summary>
    public const string SiloHeader = "Bus-Silo";

    // A 503 body worth inspecting is a small problem document; anything larger is passed through, not retried.
    private const int MaxInspectedBytes = 64 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        // Names are judged here, before any silo or grain is asked: a bad one never costs a forward (or a grain activation).
        if (await RefuseBadNamesAsync(context))
            return;
        var request = context.Request;
        var produce = ProduceTarget(request);
        var poll = IsPoll(request);
        // Arguments whose rules are the same on every silo are judged here too: a refused one is never forwarded.
        var badArgument = produce is not null ? RequestArguments.CheckProduce(name => request.Query[name].ToString())
            : poll ? RequestArguments.CheckPoll(name => request.Query[name].ToString())
            : null;
        if (badArgument is not null)
        {
            await GatewayErrors.Problem(badArgument).ExecuteAsync(context);
            return;
        }
        if (directory.Live.Count == 0)
        {
            await GatewayErrors.NoLiveSilo(directory.All.Count).ExecuteAsync(context);
            return;
        }
        var key = produce?.Key;
        var idempotent = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsPut(request.Method);
        var answerWithin = options.Value.SiloResponseTimeout + (poll ? PollWait(request) : TimeSpan.Zero);
        var body = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true ? new CountingReadStream(request.Body) : null;
        var tried = new List<SiloEntry>(4);
        var failures = new List<string>(4);
        NotReadyReply? notReady = null;
        var timedOut = false;
        try
        {
            while (true)
            {
                var live = produce is { Category: { } category } ? await writerSets.FilterAsync(category, directory.Live, aborted) : directory.Live;
                var silo = key is null ? picker.PickLeastOutstanding(live, tried) : SiloPicker.PickForKey(key, live, tried);
                if (silo is null)
                    break;
                tried.Add(silo);
                silo.Enter();
                try
                {
                    using var message = CreateRequest(context, silo, body);
                    HttpResponseMessage response;
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                    deadline.CancelAfter(answerWithin);
                    try
                    {
                        response = await client.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                        deadline.CancelAfter(Timeout.InfiniteTimeSpan); // the headers came: the body streams at its own pace
                    }
                    catch (OperationCanceledException) when (deadline.IsCancellationRequested && !aborted.IsCancellationRequested && body is not { ClientFailed: true })
                    {
                        // The silo took the request and did not answer in time. Frozen (or overloaded past its health
                        // endpoint): new requests avoid it until it answers a health check. Healthy but stuck on a grain
                        // call (a grain on a frozen peer stalls every silo until Orleans declares that peer dead): it stays.
                        // A poll (its lease, if any, expires) or an idempotent request whose body was not consumed goes to
                        // another silo; anything else may have been applied.
                        timedOut = true;
                        var within = options.Value.ConnectTimeout < TimeSpan.FromSeconds(1) ? options.Value.ConnectTimeout : TimeSpan.FromSeconds(1);
                        var frozen = !await client.AnswersHealthCheckAsync(silo, within, aborted);
                        if (frozen)
                            directory.MarkUnresponsive(silo);
                        Log.SiloDidNotAnswer(logger, silo.Id, silo.AddressText, request.Method, request.Path, (long)answerWithin.TotalMilliseconds, frozen);
                        failures.Add($"{silo.AddressText} (no answer within {answerWithin.TotalSeconds:0.#} s)");
                        if ((poll || idempotent) && (body is null || body.BytesRead == 0))
                            continue;
                        await GatewayErrors.OutcomeUnknown(failures[^1]).ExecuteAsync(context);
                        return;
                    }
                    catch (Exception e) when (!aborted.IsCancellationRequested && IsTransportFailure(e, out var connectFailed))
                    {
                        if (body is { ClientFailed: true })
                        {
                            Log.ClientBodyFailed(logger, request.Method, request.Path, e);
                            context.Abort(); // the client's upload broke: nothing sensible to answer
                            return;
                        }
                        var untouched = body is null || body.BytesRead == 0;
                        if (connectFailed)
                        {
                            directory.MarkUnreachable(silo);
                            Log.ConnectFailed(logger, silo.Id, silo.AddressText, e.Message);
                            failures.Add($"{silo.AddressText} (could not connect)");
                        }
                        else
                        {
                            Log.ConnectionBroke(logger, silo.Id, silo.AddressText, request.Method, request.Path, e.Message);
                            failures.Add($"{silo.AddressText} (connection broke before it answered)");
                        }
                        if (untouched && (connectFailed || idempotent))
                            continue;
                        // A request that reached the silo may have been applied: say so, never "unreachable". Taken body bytes
                        // prove it reached one even when the last error was a failed connect (HttpClient retries a request
                        // whose pooled connection died before any response on a new connection, which then fails).
                        await (connectFailed && untouched ? GatewayErrors.SiloUnreachable(failures) : GatewayErrors.OutcomeUnknown(failures[^1])).ExecuteAsync(context);
                        return;
                    }
                    using (response)
                    {
                        if (idempotent && response.StatusCode == HttpStatusCode.ServiceUnavailable && (body is null || body.BytesRead == 0)
                            && await ReadNotReadyAsync(response, silo, aborted) is { } reply)
                        {
                            if (reply.IsNotReady)
                            {
                                Log.SiloNotReady(logger, silo.Id, request.Method, request.Path);
                                notReady = reply;
                                continue;
                            }
                            await reply.WriteAsync(context);
                            return;
                        }
                        await CopyResponseAsync(context, silo, response, aborted);
                        return;
                    }
                }
                finally
                {
                    silo.Exit();
                }
            }
            if (notReady is not null)
                await notReady.WriteAsync(context); // every silo tried said not_ready: pass the last answer on
            else if (failures.Count > 0 && timedOut)
                await GatewayErrors.OutcomeUnknown(string.Join(", ", failures)).ExecuteAsync(context); // silos took it, none answered
            else if (failures.Count > 0)
                await GatewayErrors.SiloUnreachable(failures).ExecuteAsync(context);
            else
                await GatewayErrors.NoLiveSilo(directory.All.Count).ExecuteAsync(context); // all left between two looks
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away (a long poll given up, a closed connection); the silo saw the same cancellation.
        }
    }

    /// <summary>The category (null when not a valid name) and <c>key</c> (null when none) of a produce (<c>POST /v1/categories/{c}/messages</c>); null for any other request.</summary>
    internal static (string? Category, string? Key)? ProduceTarget(HttpRequest request)
    {
        if (!HttpMethods.IsPost(request.Method))
            return null;
        var path = request.Path.Value.AsSpan();
        const string prefix = "/v1/categories/";
        const string suffix = "/messages";
        if (!path.StartsWith(prefix, StringComparison.Ordinal) || !path.EndsWith(suffix, StringComparison.Ordinal))
            return null;
        var category = path[prefix.Length..^suffix.Length];
        if (category.IsEmpty || category.Contains('/'))
            return null;
        var key = request.Query["key"];
        // An invalid name is the silo's to refuse (with its problem+json); it must not reach a category grain.
        return (CategoryName.IsValid(category.ToString()) ? category.ToString() : null, key.Count == 0 || string.IsNullOrEmpty(key[0]) ? null : key[0]);
    }

    /// <summary>A consumer-group poll (<c>POST /v1/categories/{c}/groups/{g}/poll</c>).</summary>
    private static bool IsPoll(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Path.Value is { } path && path.StartsWith("/v1/categories/", StringComparison.Ordinal)
        && path.EndsWith("/poll", StringComparison.Ordinal);

    /// <summary>How long a poll may wait at the silo (its <c>wait_ms</c>; the silo refuses bad values itself).</summary>
    private static TimeSpan PollWait(HttpRequest request) =>
        int.TryParse(request.Query["wait_ms"].ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms is > 0 and <= 300_000
            ? TimeSpan.FromMilliseconds(ms)
            : TimeSpan.Zero;

    private static HttpRequestMessage CreateRequest(HttpContext context, SiloEntry silo, CountingReadStream? body)
    {
        var request = context.Request;
        var target = RawTarget(context);
        var message = new HttpRequestMessage(HttpMethod.Parse(request.Method), new Uri(silo.AddressText + target))
        {
            Version = HttpVersion.Version11,
        };
        foreach (var header in request.Headers)
        {
            if (header.Key.Equals("Accept", StringComparison.OrdinalIgnoreCase)
                || header.Key.StartsWith("Bus-", StringComparison.OrdinalIgnoreCase))
            {
                message.Headers.TryAddWithoutValidation(header.Key, (IEnumerable<string?>)header.Value);
            }
        }
        if (body is not null)
        {
            var content = new StreamContent(body, 64 * 1024);
            if (request.ContentLength is { } length)
                content.Headers.ContentLength = length;
            if (request.Headers.ContentType.Count > 0)
                content.Headers.TryAddWithoutValidation("Content-Type", (IEnumerable<string?>)request.Headers.ContentType);
            message.Content = content;
        }
        return message;
    }

    /// <summary>
    /// Judges category and group names from the raw target (the silos' own refusal, <see cref="RequestTargetNames"/>, so a
    /// refused name reads the same whoever refused it); true when it answered.
    /// </summary>
    internal static async Task<bool> RefuseBadNamesAsync(HttpContext context)
    {
        var (badCategory, badGroup) = RequestTargetNames.Check(RawTarget(context));
        if (badCategory is null && badGroup is null)
            return false;
        var refusal = badCategory is not null ? RequestTargetNames.InvalidCategoryName(badCategory) : RequestTargetNames.InvalidGroupName(badGroup!);
        await GatewayErrors.Problem(refusal).ExecuteAsync(context);
        return true;
    }

    // The raw target keeps the path and query exactly as the client sent them (escapes included).
    private static string RawTarget(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        return string.IsNullOrEmpty(target) || target[0] != '/'
            ? context.Request.Path.ToUriComponent() + context.Request.QueryString.ToUriComponent()
            : target;
    }

    private static async Task CopyResponseAsync(HttpContext context, SiloEntry silo, HttpResponseMessage response, CancellationToken aborted)
    {
        var target = context.Response;
        target.StatusCode = (int)response.StatusCode;
        CopyHeaders(response.Headers, target.Headers);
        CopyHeaders(response.Content.Headers, target.Headers);
        target.Headers[SiloHeader] = silo.Id;
        await using var stream = await response.Content.ReadAsStreamAsync(aborted);
        try
        {
            await stream.CopyToAsync(target.Body, 64 * 1024, aborted);
        }
        catch (Exception e) when (!aborted.IsCancellationRequested && e is IOException or HttpRequestException)
        {
            // The silo broke mid-body. The status line is gone already, so the honest signal left is to cut the
            // client's connection: a clean end would pass a truncated body off as whole.
            LogResponseBroke(context, silo, e);
            context.Abort();
        }
    }

    private static void LogResponseBroke(HttpContext context, SiloEntry silo, Exception e)
    {
        var logger = context.RequestServices.GetRequiredService<ILogger<ForwardingEndpoint>>();
        Log.ResponseBroke(logger, silo.Id, context.Request.Method, context.Request.Path, e.Message);
    }

    private static void CopyHeaders(System.Net.Http.Headers.HttpHeaders source, IHeaderDictionary target)
    {
        foreach (var header in source)
        {
            if (!HopByHop.IsHopByHop(header.Key))
                target[header.Key] = new Microsoft.Extensions.Primitives.StringValues([.. header.Value]);
        }
    }

    /// <summary>A refused-with-503 reply, kept (it is small) so it can be retried elsewhere or passed on as it was.</summary>
    private sealed record NotReadyReply(bool IsNotReady, SiloEntry Silo, string? ContentType, byte[] Body, string? RetryAfter)
    {
        public async Task WriteAsync(HttpContext context)
        {
            var response = context.Response;
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            response.ContentType = ContentType;
            if (RetryAfter is not null)
                response.Headers.RetryAfter = RetryAfter;
            response.Headers[SiloHeader] = Silo.Id;
            response.ContentLength = Body.Length;
            await response.Body.WriteAsync(Body, context.RequestAborted);
        }
    }

    // Reads a 503's problem body (when small) to see whether its code is not_ready; null when it is not inspectable.
    private static async Task<NotReadyReply?> ReadNotReadyAsync(HttpResponseMessage response, SiloEntry silo, CancellationToken aborted)
    {
        var contentType = response.Content.Headers.ContentType?.ToString();
        if (contentType is null || !contentType.StartsWith("application/problem+json", StringComparison.OrdinalIgnoreCase)
            || response.Content.Headers.ContentLength is not (>= 0 and <= MaxInspectedBytes))
        {
            return null;
        }
        var body = await response.Content.ReadAsByteArrayAsync(aborted);
        var isNotReady = false;
        try
        {
            var problem = System.Text.Json.JsonSerializer.Deserialize(body, GatewayJsonContext.Default.BusProblem);
            isNotReady = problem?.Code == BusErrorCodes.NotReady;
        }
        catch (System.Text.Json.JsonException)
        {
            // Not our problem shape: pass it on unchanged.
        }
        var retryAfter = response.Headers.RetryAfter?.ToString();
        return new NotReadyReply(isNotReady, silo, contentType, body, retryAfter);
    }

    // Connect failures (refused, unreachable, timed out) versus a connection that broke after it was made.
    private static bool IsTransportFailure(Exception e, out bool connectFailed)
    {
        switch (e)
        {
            case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError }:
                connectFailed = true;
                return true;
            case HttpRequestException:
                connectFailed = false;
                return true;
            case OperationCanceledException:
                // No overall timeout is set and the client did not cancel: only ConnectTimeout can have fired.
                connectFailed = true;
                return true;
            default:
                connectFailed = false;
                return false;
        }
    }
}
