using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OrleansBus.Contracts;

/// <summary>
/// Reads the JSON bodies of the API's control requests (ack, nack, seek, category settings) and words their refusals,
/// so a silo and the gateway turn the same bad body into the same problem.
/// </summary>
public static class RequestBodies
{
    /// <summary>The refusal of an argument that breaks its rule.</summary>
    public static BusProblem InvalidArgument(string parameter, string? value, string rule) =>
        BusProblem.Of(400, BusErrorCodes.InvalidArgument, "Invalid argument",
            $"{parameter}={RequestTargetNames.Printable(value)} is invalid: {rule}.", RequestTargetNames.Printable(value), rule);

    /// <summary>A JSON object body (ack, nack, seek): the object, or why it is not one.</summary>
    public static async Task<(T? Body, BusProblem? Error)> ReadObjectAsync<T>(Stream body, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync(body, type, cancellationToken);
            return value is null ? (null, InvalidArgument("body", null, "a JSON object")) : (value, null);
        }
        catch (JsonException e)
        {
            return (null, InvalidArgument("body", null, "a JSON object: " + e.Message));
        }
    }

    /// <summary>
    /// The body of <c>PUT /v1/categories/{c}</c>: empty means "change nothing" (create with defaults); otherwise JSON,
    /// sent as JSON.
    /// </summary>
    public static async Task<(CategorySettingsUpdate? Update, BusProblem? Error)> ReadSettingsAsync(
        Stream body, long? contentLength, string? contentType, JsonTypeInfo<CategorySettingsUpdate> type, CancellationToken cancellationToken)
    {
        var none = new CategorySettingsUpdate(null, null, null);
        if (contentLength == 0)
            return (none, null);
        if (!IsJson(contentType))
        {
            return (null, InvalidArgument("content-type", contentType,
                $"application/json: the request content type '{contentType}' is not a known JSON content type"));
        }
        try
        {
            return (await JsonSerializer.DeserializeAsync(body, type, cancellationToken) ?? none, null);
        }
        catch (JsonException e)
        {
            return (null, InvalidArgument("body", null, "a JSON object with maxChunkBytes, maxChunkAgeMs, defaultDurability, retentionMs, retentionBytes: " + e.Message));
        }
    }

    // application/json or any +json type, parameters (charset) aside.
    private static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
            return false;
        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var media = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        return media.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }
}
