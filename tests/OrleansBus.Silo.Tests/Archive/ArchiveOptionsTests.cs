using Azure.Core;
using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Archive.Blob;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Archive;

/// <summary>Archive settings are checked before anything starts, and every problem names its key.</summary>
public sealed class ArchiveOptionsTests
{
    private static BlobArchiveOptions Azurite() => new()
    {
        ServiceUri = new Uri("http://127.0.0.1:10000/devstoreaccount1"),
        AccountName = AzuriteServer.AccountName,
        AccountKey = AzuriteServer.AccountKey,
        Container = "chunks",
    };

    [Fact]
    public void Azurite_with_the_development_key_is_valid()
    {
        Assert.Empty(Azurite().Validate());
        Assert.Empty(new ArchiveOptions { Kind = "blob", Blob = Azurite() }.Validate());
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("a--b")]
    [InlineData("-ab")]
    [InlineData("ab-")]
    [InlineData("Chunks")]
    [InlineData("chunks_1")]
    public void A_container_name_azure_would_refuse_is_rejected(string container)
    {
        var options = Azurite();
        options.Container = container;

        Assert.Contains(options.Validate(), e => e.StartsWith("Bus:Archive:Blob:Container", StringComparison.Ordinal));
    }

    [Fact]
    public void Auth_must_be_exactly_one_of_key_or_token()
    {
        var both = Azurite();
        both.UseDefaultCredential = true;
        var neither = Azurite();
        neither.AccountKey = null;

        Assert.Contains(both.Validate(), e => e.Contains("exactly one of ConnectionString, AccountKey", StringComparison.Ordinal));
        Assert.Contains(neither.Validate(), e => e.Contains("exactly one of ConnectionString, AccountKey", StringComparison.Ordinal));
    }

    [Fact]
    public void A_connection_string_stands_alone_and_must_parse()
    {
        var options = new BlobArchiveOptions
        {
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.AccountName};AccountKey={AzuriteServer.AccountKey};BlobEndpoint=http://127.0.0.1:10000/{AzuriteServer.AccountName};",
        };
        Assert.Empty(options.Validate());

        options.ServiceUri = new Uri("http://127.0.0.1:10000/devstoreaccount1");
        Assert.Contains(options.Validate(), e => e.Contains("ConnectionString or ServiceUri, not both", StringComparison.Ordinal));
        options.ServiceUri = null;
        options.AccountKey = AzuriteServer.AccountKey;
        Assert.Contains(options.Validate(), e => e.Contains("exactly one of ConnectionString, AccountKey", StringComparison.Ordinal));
        options.AccountKey = null;
        options.ConnectionString = "this is not one";
        Assert.Contains(options.Validate(), e => e.StartsWith("Bus:Archive:Blob:ConnectionString is not a storage connection string", StringComparison.Ordinal));
    }

    [Fact]
    public void A_token_is_never_sent_over_plain_http()
    {
        var options = Azurite();
        options.AccountKey = null;
        options.UseDefaultCredential = true;

        Assert.Contains(options.Validate(), e => e.StartsWith("Bus:Archive:Blob:ServiceUri must be https", StringComparison.Ordinal));
        options.ServiceUri = new Uri("https://127.0.0.1:10000/devstoreaccount1");
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Missing_or_malformed_settings_name_their_keys()
    {
        var options = new BlobArchiveOptions
        {
            ServiceUri = new Uri("ftp://127.0.0.1/x"),
            AccountName = "Dev_Store",
            AccountKey = "not base64!",
            RequestTimeout = TimeSpan.Zero,
            SinglePutMaxBytes = BlobArchiveOptions.MaxPutBlobBytes + 1,
        };

        var errors = options.Validate("X");

        foreach (var key in new[] { "X:ServiceUri", "X:AccountName", "X:AccountKey", "X:RequestTimeout", "X:SinglePutMaxBytes" })
            Assert.Contains(errors, e => e.StartsWith(key, StringComparison.Ordinal));
        Assert.Contains(new BlobArchiveOptions { AccountKey = AzuriteServer.AccountKey, AccountName = "acct" }.Validate(), e => e.StartsWith("Bus:Archive:Blob:ServiceUri (or ConnectionString) is required", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new BlobArchive(options));
    }

    [Fact]
    public void An_unknown_kind_is_rejected_and_blob_settings_are_ignored_for_local()
    {
        Assert.Equal(["Bus:Archive:Kind must be 'local' or 'blob'; got 's3'."], new ArchiveOptions { Kind = "s3" }.Validate());
        Assert.Empty(new ArchiveOptions { Kind = "local", Blob = new BlobArchiveOptions() }.Validate());
        var result = new ArchiveOptionsValidator().Validate(null, new ArchiveOptions { Kind = "s3" });
        Assert.True(result.Failed);
    }

    [Fact]
    public void The_factory_puts_the_local_archive_under_the_data_directory_by_default()
    {
        using var data = new TempDirectory("data");

        var local = ChunkArchiveFactory.Create(new ArchiveOptions(), data.Path);
        using var blob = (BlobArchive)ChunkArchiveFactory.Create(new ArchiveOptions { Kind = "blob", Blob = Azurite() }, data.Path);

        Assert.Equal("local " + Path.Combine(data.Path, "archive"), local.Location);
        Assert.Equal("blob http://127.0.0.1:10000/devstoreaccount1/chunks", blob.Location);
    }

    [Fact]
    public void A_credential_set_in_code_counts_as_token_auth()
    {
        var options = Azurite();
        options.AccountKey = null;
        options.ServiceUri = new Uri("https://127.0.0.1:10000/devstoreaccount1");
        options.Credential = new FixedTokenCredential(TimeProvider.System);

        Assert.Empty(options.Validate());
    }
}

/// <summary>A token credential that hands out numbered tokens valid for one hour, counting requests.</summary>
internal sealed class FixedTokenCredential(TimeProvider time) : TokenCredential
{
    public int Requests { get; private set; }

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        Assert.Equal(["https://storage.azure.com/.default"], requestContext.Scopes);
        Requests++;
        return new AccessToken($"token-{Requests}", time.GetUtcNow().AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
