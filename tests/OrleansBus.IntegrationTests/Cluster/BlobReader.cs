using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using OrleansBus.Testing;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// Reads (and, to play a store that lost one, deletes) a blob straight from Azurite over the Blob REST API (SharedKey, the development account), independently of
/// the silo's own blob client, so a test checks what the archive really holds: the bytes and the
/// <c>x-ms-meta-sha256</c> metadata the silo stored with them.
/// </summary>
internal static class BlobReader
{
    private const string ApiVersion = "2025-01-05";

    /// <summary>The blob's bytes and its sha256 metadata (null when absent), or null when the blob does not exist.</summary>
    public static async Task<(byte[] Bytes, string? Sha256)?> GetAsync(HttpClient http, AzuriteServer azurite, string container, string blobName)
    {
        using var response = await SendAsync(http, HttpMethod.Get, azurite, container, blobName);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"GET blob {container}/{blobName} from Azurite answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}");
        var sha = response.Headers.TryGetValues("x-ms-meta-sha256", out var values) ? values.FirstOrDefault() : null;
        return (bytes, sha);
    }

    /// <summary>Deletes the blob behind the silos' backs, as a blob store that lost it would look to them.</summary>
    public static async Task DeleteAsync(HttpClient http, AzuriteServer azurite, string container, string blobName)
    {
        using var response = await SendAsync(http, HttpMethod.Delete, azurite, container, blobName);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted,
            $"DELETE blob {container}/{blobName} from Azurite answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The names of the container's blobs that start with <paramref name="prefix"/> (one page: up to 5,000).</summary>
    public static async Task<string[]> ListAsync(HttpClient http, AzuriteServer azurite, string container, string prefix)
    {
        var query = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["comp"] = "list", ["prefix"] = prefix, ["restype"] = "container" };
        using var response = await SendAsync(http, HttpMethod.Get, azurite, container, "", query);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"listing {container}/{prefix}* in Azurite answered {(int)response.StatusCode}: {body}");
        return [.. System.Xml.Linq.XDocument.Parse(body).Descendants("Blob").Select(b => (string)b.Element("Name")!)];
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, AzuriteServer azurite, string container, string blobName,
        SortedDictionary<string, string>? query = null)
    {
        // Path-style URL: http://127.0.0.1:<port>/devstoreaccount1/<container>/<category>/<chunk>; a listing has no blob name.
        var path = blobName.Length == 0 ? $"{azurite.BlobEndpoint}/{container}" : $"{azurite.BlobEndpoint}/{container}/{blobName}";
        var uri = new Uri(query is null ? path : path + "?" + string.Join("&", query.Select(q => $"{q.Key}={Uri.EscapeDataString(q.Value)}")));
        using var request = new HttpRequestMessage(method, uri);
        var date = DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture);
        request.Headers.TryAddWithoutValidation("x-ms-date", date);
        request.Headers.TryAddWithoutValidation("x-ms-version", ApiVersion);
        // VERB, then 11 empty standard headers (no body, no conditions, no range), then the x-ms-* headers sorted, then
        // /account + the path as sent (the account appears twice in a path-style URL).
        var stringToSign = method.Method + "\n" + new string('\n', 11) + $"x-ms-date:{date}\nx-ms-version:{ApiVersion}\n"
            + $"/{AzuriteServer.AccountName}{uri.AbsolutePath}"
            + (query is null ? "" : string.Concat(query.Select(q => $"\n{q.Key}:{q.Value}"))); // parameters, sorted, unescaped
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(AzuriteServer.AccountKey), Encoding.UTF8.GetBytes(stringToSign)));
        request.Headers.TryAddWithoutValidation("Authorization", $"SharedKey {AzuriteServer.AccountName}:{signature}");
        return await http.SendAsync(request);
    }
}
