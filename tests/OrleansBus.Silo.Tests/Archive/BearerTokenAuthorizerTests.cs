using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Archive.Blob;

namespace OrleansBus.Silo.Tests.Archive;

/// <summary>Bearer tokens for Azure: the storage scope, cached, renewed five minutes before they expire.</summary>
public sealed class BearerTokenAuthorizerTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2025, 10, 14, 9, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static async Task<string> AuthorizationAsync(BearerTokenAuthorizer authorizer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://acct.example/chunks/a/b");
        await authorizer.AuthorizeAsync(request, CancellationToken.None);
        return string.Join(",", request.Headers.GetValues("Authorization"));
    }

    [Fact]
    public async Task A_token_is_reused_until_five_minutes_before_it_expires()
    {
        var clock = new ManualClock();
        var credential = new FixedTokenCredential(clock);
        var authorizer = new BearerTokenAuthorizer(credential, clock);

        Assert.Equal("Bearer token-1", await AuthorizationAsync(authorizer));
        clock.Now = clock.Now.AddMinutes(54);
        Assert.Equal("Bearer token-1", await AuthorizationAsync(authorizer));
        clock.Now = clock.Now.AddMinutes(1);
        Assert.Equal("Bearer token-2", await AuthorizationAsync(authorizer));
        Assert.Equal(2, credential.Requests);
    }

    [Fact]
    public async Task A_missing_credential_is_an_archive_error_and_a_failed_token_request_is_unavailable()
    {
        var clock = new ManualClock();
        var unavailable = new BearerTokenAuthorizer(new ThrowingCredential(new Azure.Identity.CredentialUnavailableException("none configured")), clock);
        var failing = new BearerTokenAuthorizer(new ThrowingCredential(new Azure.Identity.AuthenticationFailedException("identity endpoint said 500")), clock);

        var error = await Assert.ThrowsAsync<ArchiveException>(() => AuthorizationAsync(unavailable));
        Assert.IsNotType<ArchiveUnavailableException>(error);
        await Assert.ThrowsAsync<ArchiveUnavailableException>(() => AuthorizationAsync(failing));
    }

    private sealed class ThrowingCredential(Exception error) : Azure.Core.TokenCredential
    {
        public override Azure.Core.AccessToken GetToken(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken) => throw error;

        public override ValueTask<Azure.Core.AccessToken> GetTokenAsync(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken) => throw error;
    }
}
