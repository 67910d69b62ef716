using System.Net;
using System.Text;
using System.Text.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Client;

/// <summary>
/// The bus refused a request (an HTTP error status with an <c>application/problem+json</c> body), or a request could
/// not be completed. <see cref="Code"/> is the stable <see cref="BusErrorCodes"/> value to branch on; subclasses exist
/// for the codes clients usually handle.
/// </summary>
public class BusException : Exception
{
    /// <summary>Creates an exception with only a message (no HTTP status).</summary>
    public BusException(string message) : this(message, null)
    {
    }

    /// <summary>Creates an exception with only a message and its cause (no HTTP status).</summary>
    public BusException(string message, Exception? innerException) : base(message, innerException)
    {
        Code = "";
    }

    /// <summary>Creates an exception from a server's problem reply.</summary>
    /// <param name="status">HTTP status code.</param>
    /// <param name="code">Stable error code, for example <c>message_too_large</c>.</param>
    /// <param name="detail">The server's explanation.</param>
    /// <param name="value">The value that failed, as text, when the server named one.</param>
    /// <param name="limit">The limit it broke, as text, when the server named one.</param>
    /// <param name="endpoint">The endpoint that answered.</param>
    public BusException(int status, string code, string? detail, string? value = null, string? limit = null, Uri? endpoint = null)
        : base(FormatMessage(status, code, detail))
    {
        Status = status;
        Code = code;
        Detail = detail;
        Value = value;
        Limit = limit;
        Endpoint = endpoint;
    }

    /// <summary>HTTP status of the reply; 0 when no reply came (see <see cref="BusUnavailableException"/>, <see cref="BusTimeoutException"/>).</summary>
    public int Status { get; }

    /// <summary>The stable error code (<see cref="BusErrorCodes"/>); empty when the server sent none.</summary>
    public string Code { get; }

    /// <summary>The server's explanation, with the value and the limit.</summary>
    public string? Detail { get; }

    /// <summary>The value that failed, as text (a JSON string's content, or a number's digits), when the server named one.</summary>
    public string? Value { get; }

    /// <summary>The limit it broke, as text, when the server named one.</summary>
    public string? Limit { get; }

    /// <summary>The endpoint that answered, when one did.</summary>
    public Uri? Endpoint { get; }

    private static string FormatMessage(int status, string code, string? detail) =>
        string.IsNullOrEmpty(code) ? $"{status}: {detail}" : $"{status} {code}: {detail}";

    /// <summary>Reads an error reply into the most specific exception for its code. Does not dispose the response.</summary>
    internal static async Task<BusException> FromResponseAsync(HttpResponseMessage response, Uri endpoint, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string text;
        try
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            text = Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 64 * 1024));
        }
        catch (HttpRequestException)
        {
            text = "";
        }
        var problem = TryParse(text, response.Content.Headers.ContentType?.MediaType);
        if (problem is null)
        {
            var reason = text.Length > 0 ? text.Trim() : response.ReasonPhrase ?? response.StatusCode.ToString();
            return Create(status, "", reason, null, null, endpoint);
        }
        return Create(status, problem.Code ?? "", problem.Detail ?? problem.Title, Text(problem.Value), Text(problem.Limit), endpoint);
    }

    internal static BusException Create(int status, string code, string? detail, string? value, string? limit, Uri? endpoint) => code switch
    {
        BusErrorCodes.LeaseLost => new BusLeaseLostException(status, code, detail, value, limit, endpoint),
        BusErrorCodes.MessageTooLarge => new BusMessageTooLargeException(status, code, detail, value, limit, endpoint),
        BusErrorCodes.RequestTooLarge => new BusRequestTooLargeException(status, code, detail, value, limit, endpoint),
        BusErrorCodes.OutcomeUnknown => new BusOutcomeUnknownException(status, code, detail, value, limit, endpoint),
        _ when status == (int)HttpStatusCode.NotFound => new BusNotFoundException(status, code, detail, value, limit, endpoint),
        _ => new BusException(status, code, detail, value, limit, endpoint),
    };

    private static WireProblem? TryParse(string text, string? mediaType)
    {
        if (text.Length == 0 || mediaType is null || !mediaType.Contains("json", StringComparison.OrdinalIgnoreCase))
            return null;
        try
        {
            return JsonSerializer.Deserialize(text, BusClientJsonContext.Default.WireProblem);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement? element) => element switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } e => e.GetString(),
        { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
        { } e => e.GetRawText(),
    };
}

/// <summary>409 <c>lease_lost</c>: an ack or nack came after the delivery's lease expired (and the range may have gone to another consumer), or twice.</summary>
public sealed class BusLeaseLostException : BusException
{
    /// <inheritdoc cref="BusException(int, string, string?, string?, string?, Uri?)"/>
    public BusLeaseLostException(int status, string code, string? detail, string? value = null, string? limit = null, Uri? endpoint = null)
        : base(status, code, detail, value, limit, endpoint)
    {
    }
}

/// <summary>
/// 504 <c>outcome_unknown</c> (from the gateway): the request reached a silo, which went away before it answered. It may
/// have taken effect: a produce retried may be written twice (at-least-once), an ack retried may answer lease_lost.
/// </summary>
public sealed class BusOutcomeUnknownException : BusException
{
    /// <inheritdoc cref="BusException(int, string, string?, string?, string?, Uri?)"/>
    public BusOutcomeUnknownException(int status, string code, string? detail, string? value = null, string? limit = null, Uri? endpoint = null)
        : base(status, code, detail, value, limit, endpoint)
    {
    }
}

/// <summary>413 <c>message_too_large</c>: one message is over the server's MaxMessageBytes; nothing of the request was written. <see cref="BusException.Limit"/> is that limit.</summary>
public sealed class BusMessageTooLargeException : BusException
{
    /// <inheritdoc cref="BusException(int, string, string?, string?, string?, Uri?)"/>
    public BusMessageTooLargeException(int status, string code, string? detail, string? value = null, string? limit = null, Uri? endpoint = null)
        : base(status, code, detail, value, limit, endpoint)
    {
    }
}

/// <summary>413 <c>request_too_large</c>: the batch is over the server's MaxRequestBytes; nothing was written. Send smaller batches.</summary>
public sealed class BusRequestTooLargeException : BusException
{
    /// <inheritdoc cref="BusException(int, string, string?, string?, string?, Uri?)"/>
    public BusRequestTooLargeException(int status, string code, string? detail, string? value = null, string? limit = null, Uri? endpoint = null)
        : base(status, code, detail, value, limit, endpoint)
    {
    }
}

/// <summary>404: the category, chunk or group does not exist (<c>category_not_found</c>, <c>chunk_not_found</c>, <c>group_not_found</c>).</summary>
public sealed class BusNotFoundException : BusException
{
    /// <inheritdoc cref="BusException(int, string, string?, string?, string?, Uri?)"/>
    public BusNotFoundException(int status, string code, string? detail, string? value = null, string? limit = null, Uri? endpoint = null)
        : base(status, code, detail, value, limit, endpoint)
    {
    }
}

/// <summary>
/// No endpoint could be reached: every one refused the connection, could not be resolved, timed out connecting, or
/// dropped the connection. <see cref="Exception.InnerException"/> is an <see cref="AggregateException"/> with each failure.
/// </summary>
public sealed class BusUnavailableException : BusException
{
    /// <summary>Creates the exception for the endpoints tried and how each failed.</summary>
    public BusUnavailableException(IReadOnlyList<Uri> endpoints, IReadOnlyList<Exception> failures)
        : base(FormatMessage(endpoints, failures), new AggregateException(failures))
    {
        Endpoints = endpoints;
    }

    /// <summary>The cluster could not be reached through the Orleans client (no gateway, or the call was rejected before a silo ran it).</summary>
    public BusUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
        Endpoints = [];
    }

    /// <summary>The endpoints tried, in order (empty for the Orleans client, which has no endpoints of its own).</summary>
    public IReadOnlyList<Uri> Endpoints { get; }

    private static string FormatMessage(IReadOnlyList<Uri> endpoints, IReadOnlyList<Exception> failures)
    {
        var text = new StringBuilder("Cannot reach any OrleansBus endpoint: ");
        for (var i = 0; i < endpoints.Count; i++)
        {
            if (i > 0)
                text.Append("; ");
            text.Append(endpoints[i].ToString().TrimEnd('/'));
            if (i < failures.Count)
                text.Append(" (").Append(Innermost(failures[i]).Message).Append(')');
        }
        return text.Append('.').ToString();
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return e;
    }
}

/// <summary>A request did not complete within <see cref="BusClientOptions.RequestTimeout"/> (plus the wait of a poll). A produce may or may not have been written.</summary>
public sealed class BusTimeoutException : BusException
{
    /// <summary>Creates the exception for a request to <paramref name="endpoint"/> that took longer than <paramref name="timeout"/>.</summary>
    public BusTimeoutException(Uri endpoint, TimeSpan timeout, Exception? innerException)
        : base($"No answer from {endpoint.ToString().TrimEnd('/')} within {timeout.TotalSeconds:0.###} s.", innerException)
    {
        EndpointTried = endpoint;
        Timeout = timeout;
    }

    /// <summary>A grain call of the Orleans client that got no answer within <paramref name="timeout"/> (Orleans' response timeout).</summary>
    public BusTimeoutException(string what, TimeSpan timeout, Exception? innerException)
        : base($"No answer from the cluster to {what} within {timeout.TotalSeconds:0.###} s.", innerException)
    {
        Timeout = timeout;
    }

    /// <summary>The endpoint that did not answer in time; null for the Orleans client.</summary>
    public Uri? EndpointTried { get; }

    /// <summary>The time allowed.</summary>
    public TimeSpan Timeout { get; }
}
