using Azure.Core;
using Azure.Identity;

namespace OrleansBus.Silo.Archive.Blob;

/// <summary>
/// Adds the Authorization header to a request that is otherwise complete (every other header set).
/// Called once per attempt, so a date or token is always fresh. Thread-safe.
/// </summary>
internal interface IBlobRequestAuthorizer
{
    ValueTask AuthorizeAsync(HttpRequestMessage request, CancellationToken cancellationToken);
}

/// <summary>SharedKey: signs each request with the account key (Azurite; Azure accounts that allow keys).</summary>
internal sealed class SharedKeyAuthorizer(string accountName, string accountKey) : IBlobRequestAuthorizer
{
    private readonly byte[] _key = Convert.FromBase64String(accountKey);

    public ValueTask AuthorizeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        SharedKeySigner.Authorize(request, accountName, _key);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Entra ID bearer token for <c>https://storage.azure.com/.default</c>, cached until five minutes before
/// it expires (or the credential's refresh time) so a token request does not precede every blob call.
/// A failure to get a token is <see cref="ArchiveUnavailableException"/> when the identity endpoint
/// failed (retry), <see cref="ArchiveException"/> when no credential is configured at all.
/// </summary>
internal sealed class BearerTokenAuthorizer(TokenCredential credential, TimeProvider time) : IBlobRequestAuthorizer
{
    private static readonly TokenRequestContext Scope = new(["https://storage.azure.com/.default"]);
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);
    // A class reference, so readers on other threads never see half of a new token (AccessToken is a multi-field struct).
    private volatile CachedToken? _token;

    public async ValueTask AuthorizeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await GetTokenAsync(cancellationToken);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token.Token);
    }

    /// <summary>
    /// No lock: two callers that find the token stale at once both ask the credential, which caches tokens
    /// itself; the later answer wins, and both are valid.
    /// </summary>
    private async ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (_token is { } cached && IsFresh(cached.Token))
            return cached.Token;
        try
        {
            var token = await credential.GetTokenAsync(Scope, cancellationToken);
            _token = new CachedToken(token);
            return token;
        }
        catch (CredentialUnavailableException e)
        {
            throw new ArchiveException($"No Azure credential is available for blob storage: {e.Message}", e);
        }
        catch (AuthenticationFailedException e)
        {
            throw new ArchiveUnavailableException($"Getting a blob storage token failed: {e.Message}", e);
        }
    }

    private bool IsFresh(AccessToken token)
    {
        var now = time.GetUtcNow();
        if (token.RefreshOn is { } refreshOn && now >= refreshOn)
            return false;
        return now < token.ExpiresOn - RefreshMargin;
    }

    private sealed record CachedToken(AccessToken Token);
}
