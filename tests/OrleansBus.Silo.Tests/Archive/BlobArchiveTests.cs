using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using OrleansBus.Silo.Archive;
using OrleansBus.Silo.Archive.Blob;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Archive;

/// <summary>One real Azurite per test class (a test stops and restarts it) and one container in it.</summary>
public sealed class AzuriteContainer : IAsyncLifetime
{
    public AzuriteServer Server { get; private set; } = null!;

    /// <summary>Not created here: the archive's first upload creates it.</summary>
    public string Container { get; } = "t" + Guid.NewGuid().ToString("N")[..20];

    public async Task InitializeAsync() => Server = await AzuriteServer.StartNewAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();

    /// <summary>Azurite's connection string, as the AppHost hands it to the silos.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.AccountName};AccountKey={AzuriteServer.AccountKey};BlobEndpoint={Server.BlobEndpoint};";

    public BlobArchiveOptions Options(string? container = null, string? key = null) => new()
    {
        ServiceUri = new Uri(Server.BlobEndpoint),
        AccountName = AzuriteServer.AccountName,
        AccountKey = key ?? AzuriteServer.AccountKey,
        Container = container ?? Container,
        RequestTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };
}

/// <summary>
/// The conformance suite on Azurite through Azure.Storage.Blobs, plus what only the blob tier has: the
/// service's Content-MD5 check, digests of blobs we did not write, an unreachable or silent service.
/// </summary>
public class BlobArchiveTests(AzuriteContainer azurite) : ChunkArchiveConformance, IClassFixture<AzuriteContainer>
{
    protected AzuriteContainer Azurite { get; } = azurite;

    protected virtual BlobArchiveOptions Options() => Azurite.Options();

    protected override Task<IChunkArchive> CreateArchiveAsync() => Task.FromResult<IChunkArchive>(new BlobArchive(Options()));

#pragma warning disable CA5351 // MD5 is the Blob API's transfer checksum, not a security measure.
    private static byte[] Md5(byte[] data) => MD5.HashData(data);
#pragma warning restore CA5351

    /// <summary>The SDK calls the archive makes, without the archive's checks: to put blobs there the way other tools might.</summary>
    private BlobStore RawClient() => new(Azurite.Options());

    [Fact]
    public async Task Calls_fail_as_unavailable_while_Azurite_is_stopped_and_work_again_after_it_starts()
    {
        var before = Content(40_000, seed: 30);
        var during = Content(40_000, seed: 31);
        await UploadAsync(Chunk(0), before);

        await Azurite.Server.StopAsync();
        try
        {
            await Assert.ThrowsAsync<ArchiveUnavailableException>(() => UploadAsync(Chunk(1), during));
            await Assert.ThrowsAsync<ArchiveUnavailableException>(() => Archive.ExistsAsync(Category, Chunk(0), CancellationToken.None));
            await Assert.ThrowsAsync<ArchiveUnavailableException>(() => Archive.GetLengthAsync(Category, Chunk(0), CancellationToken.None));
            await Assert.ThrowsAsync<ArchiveUnavailableException>(() => Archive.ReadAsync(Category, Chunk(0), 0, new byte[10], CancellationToken.None));
            await Assert.ThrowsAsync<ArchiveUnavailableException>(() => ReadAllAsync(Chunk(0)));
            await Assert.ThrowsAsync<ArchiveUnavailableException>(() => Archive.ListAsync(Category, CancellationToken.None));
            await Assert.ThrowsAsync<ArchiveUnavailableException>(() => Archive.DeleteAsync(Category, Chunk(0), CancellationToken.None));
        }
        finally
        {
            await Azurite.Server.StartAsync();
        }

        Assert.Equal(ArchiveUploadOutcome.Created, await UploadAsync(Chunk(1), during));
        Assert.Equal(before, await ReadAllAsync(Chunk(0)));
        Assert.Equal(2, (await Archive.ListAsync(Category, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_body_that_changes_after_hashing_is_refused_by_the_content_md5_check_and_leaves_no_blob()
    {
        var content = Content(300_000, seed: 32);
        // The archive hashes the first pass (it matches), then sends the second pass with one bit flipped.
        var source = new ChangingStream(content, flipAt: 123_456);

        var error = await Assert.ThrowsAsync<ArchiveIntegrityException>(() =>
            Archive.UploadAsync(Category, Chunk(0), source, content.Length, ChunkHash.Compute(content), CancellationToken.None));

        Assert.Contains("MD5", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(await Archive.ExistsAsync(Category, Chunk(0), CancellationToken.None));
        Assert.Equal(ArchiveUploadOutcome.Created, await UploadAsync(Chunk(0), content));
    }

    [Fact]
    public async Task A_put_whose_content_md5_does_not_match_the_body_is_rejected_and_leaves_no_blob()
    {
        await UploadAsync(Chunk(9), Content(1, seed: 33)); // creates the container
        var client = RawClient();
        var body = Encoding.ASCII.GetBytes("hello\n");
        var wrongMd5 = Md5(Encoding.ASCII.GetBytes("hellO\n"));
        var name = $"{Category}/{Chunk(0)}";

        await using var content = new MemoryStream(body);
        await Assert.ThrowsAsync<ArchiveIntegrityException>(() => client.PutBlobAsync(name, content, wrongMd5, null, CancellationToken.None));

        Assert.Null(await client.GetPropertiesAsync(name, CancellationToken.None));
    }

    [Fact]
    public async Task A_blob_we_did_not_write_is_matched_by_its_md5_when_it_has_no_hash_metadata()
    {
        var content = Content(5000, seed: 34);
        await UploadAsync(Chunk(9), Content(1, seed: 35)); // creates the container
        var client = RawClient();
        await using (var body = new MemoryStream(content))
            await client.PutBlobAsync($"{Category}/{Chunk(0)}", body, Md5(content), null, CancellationToken.None);

        Assert.Equal(ArchiveUploadOutcome.AlreadyArchived, await UploadAsync(Chunk(0), content));
        var other = (byte[])content.Clone();
        other[0] ^= 1;
        await Assert.ThrowsAsync<ArchiveConflictException>(() => UploadAsync(Chunk(0), other));
    }

    [Fact]
    public async Task A_blob_with_no_digest_at_all_is_compared_by_reading_it_back()
    {
        var content = Content(5000, seed: 36);
        await UploadAsync(Chunk(9), Content(1, seed: 37)); // creates the container
        var client = RawClient();
        var name = $"{Category}/{Chunk(0)}";
        var id = Convert.ToBase64String("block-0"u8);
        await using (var block = new MemoryStream(content))
            Assert.True(await client.PutBlockAsync(name, id, block, Md5(content), CancellationToken.None));
        Assert.Equal(BlobWrite.Created, await client.PutBlockListAsync(name, [id], null, null, CancellationToken.None));

        Assert.Equal(ArchiveUploadOutcome.AlreadyArchived, await UploadAsync(Chunk(0), content));
        var other = (byte[])content.Clone();
        other[^1] ^= 1;
        await Assert.ThrowsAsync<ArchiveConflictException>(() => UploadAsync(Chunk(0), other));
    }

    [Fact]
    public async Task A_wrong_account_key_is_an_archive_error_not_unavailable()
    {
        var wrongKey = Convert.ToBase64String(new byte[64]);
        using var archive = new BlobArchive(Azurite.Options(key: wrongKey));

        var error = await Assert.ThrowsAsync<ArchiveException>(() => archive.ExistsAsync(Category, Chunk(0), CancellationToken.None));

        Assert.IsNotType<ArchiveUnavailableException>(error);
        Assert.Contains("403", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_that_accepts_but_never_answers_times_out_as_unavailable()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var options = Azurite.Options();
        options.ServiceUri = new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/{AzuriteServer.AccountName}");
        options.RequestTimeout = TimeSpan.FromMilliseconds(500);
        using var archive = new BlobArchive(options);

        var error = await Assert.ThrowsAsync<ArchiveUnavailableException>(() => archive.ExistsAsync(Category, Chunk(0), CancellationToken.None));

        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_archived_chunk_is_a_plain_block_blob_that_the_sdk_reads_with_the_same_bytes_md5_and_hash()
    {
        var content = Content(200_000, seed: 38);
        await UploadAsync(Chunk(0), content);

        // Straight from the service with the SDK, nothing of ours in between: what Azure tools see.
        var blob = new Azure.Storage.Blobs.BlobContainerClient(Azurite.ConnectionString, Azurite.Container).GetBlobClient($"{Category}/{Chunk(0)}");
        var properties = (await blob.GetPropertiesAsync()).Value;
        var bytes = (await blob.DownloadContentAsync()).Value.Content.ToArray();
        Assert.Equal(content, bytes);
        Assert.Equal(Azure.Storage.Blobs.Models.BlobType.Block, properties.BlobType);
        Assert.Equal(Md5(content), properties.ContentHash);
        Assert.Equal(ChunkHash.Compute(content).ToString(), properties.Metadata["sha256"]);
    }

    [Fact]
    public async Task The_callers_cancellation_stays_a_cancellation()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Archive.ExistsAsync(Category, Chunk(0), cancelled.Token));
    }
}

/// <summary>The same suite with the archive reaching Azurite through a connection string (what the AppHost passes).</summary>
public sealed class BlobArchiveConnectionStringTests(AzuriteContainer azurite) : BlobArchiveTests(azurite)
{
    protected override BlobArchiveOptions Options()
    {
        var options = Azurite.Options();
        (options.ConnectionString, options.ServiceUri, options.AccountName, options.AccountKey) = (Azurite.ConnectionString, null, null, null);
        return options;
    }
}

/// <summary>
/// The same suite with tiny single-put and block limits, so every chunk above 64 KiB goes up as staged
/// blocks + a block list (the path real chunks over 256 MiB take).
/// </summary>
public sealed class BlobArchiveBlockUploadTests(AzuriteContainer azurite) : BlobArchiveTests(azurite)
{
    protected override BlobArchiveOptions Options()
    {
        var options = Azurite.Options();
        options.SinglePutMaxBytes = 64 * 1024;
        options.BlockBytes = 48 * 1024 + 7;
        return options;
    }
}
