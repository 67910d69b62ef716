using System.Security.Cryptography;
using System.Text;

namespace OrleansBus.Silo.Archive.Blob;

/// <summary>
/// SharedKey authorization for the Blob service (the 2009-09-19+ scheme): HMAC-SHA256, keyed with the
/// base64-decoded account key, of
/// <code>
/// VERB \n Content-Encoding \n Content-Language \n Content-Length \n Content-MD5 \n Content-Type \n
/// Date \n If-Modified-Since \n If-Match \n If-None-Match \n If-Unmodified-Since \n Range \n
/// CanonicalizedHeaders CanonicalizedResource
/// </code>
/// Content-Length is empty when 0; Date is empty because x-ms-date is always sent.
/// CanonicalizedHeaders: every <c>x-ms-*</c> header, name lower-cased, sorted ordinally, value trimmed,
/// each as <c>name:value\n</c>. CanonicalizedResource: <c>/account</c> + the URI path as sent (so for a
/// path-style Azurite URL the account appears twice), then per query parameter, sorted by lower-cased
/// name, <c>\nname:v1,v2</c> with URL-decoded values sorted. Any difference from what the service
/// computes is a 403 AuthenticationFailed, so this runs on the exact request about to be sent, after
/// every header has been set. Stateless and thread-safe.
/// </summary>
internal static class SharedKeySigner
{
    public static void Authorize(HttpRequestMessage request, string accountName, byte[] key)
    {
        var signature = Sign(StringToSign(request, accountName), key);
        request.Headers.TryAddWithoutValidation("Authorization", $"SharedKey {accountName}:{signature}");
    }

    public static string Sign(string stringToSign, byte[] key) =>
        Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));

    public static string StringToSign(HttpRequestMessage request, string accountName)
    {
        var content = request.Content?.Headers;
        var length = content?.ContentLength is > 0 ? content.ContentLength.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        var builder = new StringBuilder(512);
        builder.Append(request.Method.Method).Append('\n');
        builder.Append(Joined(content, "Content-Encoding")).Append('\n');
        builder.Append(Joined(content, "Content-Language")).Append('\n');
        builder.Append(length).Append('\n');
        builder.Append(Joined(content, "Content-MD5")).Append('\n');
        builder.Append(Joined(content, "Content-Type")).Append('\n');
        builder.Append('\n'); // Date: x-ms-date is used instead
        builder.Append(Joined(request.Headers, "If-Modified-Since")).Append('\n');
        builder.Append(Joined(request.Headers, "If-Match")).Append('\n');
        builder.Append(Joined(request.Headers, "If-None-Match")).Append('\n');
        builder.Append(Joined(request.Headers, "If-Unmodified-Since")).Append('\n');
        builder.Append(Joined(request.Headers, "Range")).Append('\n');
        AppendCanonicalHeaders(builder, request);
        AppendCanonicalResource(builder, request.RequestUri!, accountName);
        return builder.ToString();
    }

    private static string Joined(System.Net.Http.Headers.HttpHeaders? headers, string name) =>
        headers is not null && headers.NonValidated.TryGetValues(name, out var values) ? string.Join(",", values) : "";

    private static void AppendCanonicalHeaders(StringBuilder builder, HttpRequestMessage request)
    {
        var headers = new List<KeyValuePair<string, string>>();
        Collect(request.Headers, headers);
        if (request.Content is not null)
            Collect(request.Content.Headers, headers);
        headers.Sort(static (x, y) => string.CompareOrdinal(x.Key, y.Key));
        foreach (var (name, value) in headers)
            builder.Append(name).Append(':').Append(value).Append('\n');
    }

    private static void Collect(System.Net.Http.Headers.HttpHeaders headers, List<KeyValuePair<string, string>> into)
    {
        foreach (var header in headers.NonValidated)
        {
            if (!header.Key.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
                continue;
            into.Add(new(header.Key.ToLowerInvariant(), string.Join(",", header.Value).Trim()));
        }
    }

    private static void AppendCanonicalResource(StringBuilder builder, Uri uri, string accountName)
    {
        builder.Append('/').Append(accountName).Append(uri.AbsolutePath);
        var query = uri.Query;
        if (query.Length <= 1)
            return;
        var parameters = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in query[1..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]).ToLowerInvariant();
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            if (!parameters.TryGetValue(name, out var values))
                parameters[name] = values = [];
            values.Add(value);
        }
        foreach (var (name, values) in parameters)
        {
            values.Sort(StringComparer.Ordinal);
            builder.Append('\n').Append(name).Append(':').Append(string.Join(",", values));
        }
    }
}
