using System.Text.RegularExpressions;
using Azure.Core;

namespace OrleansBus.Silo.Archive.Blob;

/// <summary>
/// Where and how <see cref="BlobArchive"/> reaches the blob service. Section <c>Bus:Archive:Blob</c>. Exactly one way
/// in: a <see cref="ConnectionString"/> (Azurite locally; the AppHost passes one), an account key
/// (<see cref="ServiceUri"/> + <see cref="AccountName"/> + <see cref="AccountKey"/>), or an Entra ID token for
/// <see cref="ServiceUri"/> (<see cref="UseDefaultCredential"/>: managed identity in Azure Container Apps, or a
/// <see cref="Credential"/> set in code). <see cref="Validate"/> names the key that is wrong.
/// </summary>
public sealed partial class BlobArchiveOptions
{
    /// <summary>The largest body one request sends; bigger chunks go up as several blocks.</summary>
    public const long MaxPutBlobBytes = 256L * 1024 * 1024;

    /// <summary>
    /// The blob service endpoint, without the container: path-style for Azurite
    /// (<c>http://127.0.0.1:10000/devstoreaccount1</c>) or the account's own host for Azure
    /// (<c>https://&lt;account&gt;.blob.&lt;suffix&gt;</c>). Never hard-coded.
    /// </summary>
    public Uri? ServiceUri { get; set; }

    /// <summary>
    /// A storage connection string (<c>DefaultEndpointsProtocol=…;AccountName=…;AccountKey=…;BlobEndpoint=…</c>), instead
    /// of <see cref="ServiceUri"/> and a key or identity. A secret: never logged.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Storage account name; required with <see cref="AccountKey"/> (it is part of what is signed).</summary>
    public string? AccountName { get; set; }

    /// <summary>Base64 account key for SharedKey auth. A secret: never logged.</summary>
    public string? AccountKey { get; set; }

    /// <summary>Use Azure.Identity's DefaultAzureCredential (managed identity, workload identity, az login) instead of a key.</summary>
    public bool UseDefaultCredential { get; set; }

    /// <summary>A token credential set in code (not bound from configuration); takes the place of <see cref="UseDefaultCredential"/>.</summary>
    public TokenCredential? Credential { get; set; }

    /// <summary>Container holding the chunks (<c>&lt;category&gt;/&lt;chunk&gt;</c>); created when missing.</summary>
    public string Container { get; set; } = "chunks";

    /// <summary>Time allowed for one whole call, its retries included (and for each try), after which it counts as unavailable.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Retries of a try that failed in transport or with 408, 429 or 5xx, with exponential backoff from 0.2 s (the SDK's pipeline).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Time allowed to open a connection.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Chunks up to this size go up as one block; larger ones as blocks of <see cref="BlockBytes"/>. At most <see cref="MaxPutBlobBytes"/>.</summary>
    public long SinglePutMaxBytes { get; set; } = MaxPutBlobBytes;

    /// <summary>Size of each staged block for chunks above <see cref="SinglePutMaxBytes"/>.</summary>
    public long BlockBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>Problems, each naming its key (prefix <paramref name="section"/>); empty when valid.</summary>
    public IReadOnlyList<string> Validate(string section = "Bus:Archive:Blob")
    {
        var errors = new List<string>();
        var connectionString = !string.IsNullOrEmpty(ConnectionString);
        if (connectionString)
        {
            if (ServiceUri is not null)
                errors.Add($"{section}: set ConnectionString or ServiceUri, not both.");
            else if (!ConnectionStringParses(ConnectionString!))
                errors.Add($"{section}:ConnectionString is not a storage connection string (DefaultEndpointsProtocol=…;AccountName=…;AccountKey=…;BlobEndpoint=…).");
        }
        else if (ServiceUri is null)
            errors.Add($"{section}:ServiceUri (or ConnectionString) is required (for Azurite http://127.0.0.1:<port>/<account>).");
        else if (!ServiceUri.IsAbsoluteUri || ServiceUri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(ServiceUri.Query) || !string.IsNullOrEmpty(ServiceUri.Fragment))
            errors.Add($"{section}:ServiceUri must be an absolute http or https URI without query or fragment; got '{ServiceUri}'.");
        var tokenAuth = UseDefaultCredential || Credential is not null;
        var keyAuth = !string.IsNullOrEmpty(AccountKey);
        if ((tokenAuth ? 1 : 0) + (keyAuth ? 1 : 0) + (connectionString ? 1 : 0) != 1)
            errors.Add($"{section}: set exactly one of ConnectionString, AccountKey (with ServiceUri and AccountName) or UseDefaultCredential (Entra ID token for ServiceUri).");
        if (keyAuth)
        {
            if (string.IsNullOrEmpty(AccountName) || !AccountNamePattern().IsMatch(AccountName))
                errors.Add($"{section}:AccountName must be 3-24 lower-case letters and digits when AccountKey is set; got '{AccountName}'.");
            if (!IsBase64(AccountKey!))
                errors.Add($"{section}:AccountKey is not valid base64.");
        }
        if (tokenAuth && ServiceUri is { IsAbsoluteUri: true } && ServiceUri.Scheme != "https")
            errors.Add($"{section}:ServiceUri must be https when a token credential is used (tokens are not sent in clear text).");
        if (string.IsNullOrEmpty(Container) || Container.Length is < 3 or > 63 || !ContainerPattern().IsMatch(Container) || Container.Contains("--", StringComparison.Ordinal))
            errors.Add($"{section}:Container must be 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit; got '{Container}'.");
        if (RequestTimeout <= TimeSpan.Zero)
            errors.Add($"{section}:RequestTimeout must be positive.");
        if (MaxRetries is < 0 or > 10)
            errors.Add($"{section}:MaxRetries must be between 0 and 10; got {MaxRetries}.");
        if (ConnectTimeout <= TimeSpan.Zero)
            errors.Add($"{section}:ConnectTimeout must be positive.");
        if (SinglePutMaxBytes is < 1 or > MaxPutBlobBytes)
            errors.Add($"{section}:SinglePutMaxBytes must be between 1 and {MaxPutBlobBytes}; got {SinglePutMaxBytes}.");
        if (BlockBytes is < 1 or > 100L * 1024 * 1024)
            errors.Add($"{section}:BlockBytes must be between 1 and {100L * 1024 * 1024}; got {BlockBytes}.");
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem.</summary>
    public void ThrowIfInvalid(string section = "Bus:Archive:Blob")
    {
        var errors = Validate(section);
        if (errors.Count > 0)
            throw new ArgumentException(string.Join(" ", errors));
    }

    private static bool ConnectionStringParses(string value)
    {
        try
        {
            return new Azure.Storage.Blobs.BlobServiceClient(value).Uri is not null;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private static bool IsBase64(string value)
    {
        var buffer = new byte[(value.Length * 3 / 4) + 3];
        return value.Length > 0 && Convert.TryFromBase64String(value, buffer, out var written) && written > 0;
    }

    [GeneratedRegex("^[a-z0-9]{3,24}$")]
    private static partial Regex AccountNamePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*[a-z0-9]$")]
    private static partial Regex ContainerPattern();
}
