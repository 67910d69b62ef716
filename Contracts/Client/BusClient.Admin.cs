using System.Globalization;
using System.Net.Http.Json;
using OrleansBus.Contracts;

namespace OrleansBus.Client;

/// <summary>Bytes read from a chunk, cut to the last whole message, and where the next read starts.</summary>
/// <param name="Data">Whole messages, each ending with <c>\n</c>; empty at the end of the readable data.</param>
/// <param name="NextOffset">The offset after <paramref name="Data"/>.</param>
public sealed record ChunkReadResult(ReadOnlyMemory<byte> Data, long NextOffset);

/// <summary>Where <see cref="BusClient.SeekAsync(string, string, SeekPosition, CancellationToken)"/> moves a group.</summary>
public enum SeekPosition
{
    /// <summary>To the oldest data: everything is delivered again.</summary>
    Earliest,

    /// <summary>To the end: only messages produced after the seek are delivered.</summary>
    Latest,
}

public sealed partial class BusClient
{
    /// <summary>Lists the categories with their settings.</summary>
    public Task<IReadOnlyList<CategoryInfo>> ListCategoriesAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync<IReadOnlyList<CategoryInfo>>("v1/categories",
            static async (response, token) => await ReadJsonAsync(response, BusClientJsonContext.Default.CategoryInfoArray, token), cancellationToken);

    /// <summary>Reads a category's settings.</summary>
    /// <exception cref="BusNotFoundException">The category does not exist.</exception>
    public Task<CategoryInfo> GetCategoryAsync(string category, CancellationToken cancellationToken = default) =>
        GetJsonAsync("v1/categories/" + Segment(category, "category"),
            static (response, token) => ReadJsonAsync(response, BusClientJsonContext.Default.CategoryInfo, token), cancellationToken);

    /// <summary>Creates a category with these settings, or changes an existing one's; null fields keep their value.</summary>
    /// <returns>The settings now in force.</returns>
    public Task<CategoryInfo> PutCategoryAsync(string category, CategorySettingsUpdate settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var path = "v1/categories/" + Segment(category, "category");
        return ExecuteAsync(
            endpoint => new HttpRequestMessage(HttpMethod.Put, new Uri(endpoint, path))
            {
                Content = JsonContent.Create(settings, BusClientJsonContext.Default.CategorySettingsUpdate),
            },
            static (response, _, token) => ReadJsonAsync(response, BusClientJsonContext.Default.CategoryInfo, token),
            Options.RequestTimeout, preferredEndpoint: null, cancellationToken);
    }

    /// <summary>
    /// Starts deleting a category: every silo stops taking its writes (they answer 409 <c>category_deleting</c>), then its
    /// data on every silo and in the archive and its consumer groups are deleted. Sending it again while that runs reports
    /// the same deletion. Once <see cref="GetCategoryAsync"/> throws <see cref="BusNotFoundException"/> it is done, and a
    /// category of the same name may be created afresh.
    /// </summary>
    /// <returns>The category with <see cref="CategoryInfo.State"/> <c>deleting</c> and how far the deletion is.</returns>
    /// <exception cref="BusNotFoundException">The category does not exist.</exception>
    public Task<CategoryInfo> DeleteCategoryAsync(string category, CancellationToken cancellationToken = default)
    {
        var path = "v1/categories/" + Segment(category, "category");
        return ExecuteAsync(
            endpoint => new HttpRequestMessage(HttpMethod.Delete, new Uri(endpoint, path)),
            static (response, _, token) => ReadJsonAsync(response, BusClientJsonContext.Default.CategoryInfo, token),
            Options.RequestTimeout, preferredEndpoint: null, cancellationToken);
    }

    /// <summary>Lists a category's chunks, oldest first, with state, owner, size and message count.</summary>
    /// <exception cref="BusNotFoundException">The category does not exist.</exception>
    public Task<IReadOnlyList<ChunkInfo>> ListChunksAsync(string category, CancellationToken cancellationToken = default) =>
        GetJsonAsync<IReadOnlyList<ChunkInfo>>("v1/categories/" + Segment(category, "category") + "/chunks",
            static async (response, token) => await ReadJsonAsync(response, BusClientJsonContext.Default.ChunkInfoArray, token), cancellationToken);

    /// <summary>
    /// Reads raw bytes of a chunk from <paramref name="offset"/>: at most <paramref name="maxBytes"/>, cut back to the last
    /// whole message (one message larger than that comes whole).
    /// </summary>
    /// <param name="category">Category name.</param>
    /// <param name="chunk">Chunk name, as listed by <see cref="ListChunksAsync"/>.</param>
    /// <param name="offset">Byte offset to read from: 0, or a <see cref="ChunkReadResult.NextOffset"/>.</param>
    /// <param name="maxBytes">Most bytes to return; null: the server's default (1 MiB).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="BusNotFoundException">The category or chunk does not exist.</exception>
    public Task<ChunkReadResult> ReadChunkAsync(string category, string chunk, long offset = 0, int? maxBytes = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (chunk is "." or ".." || chunk.Length == 0)
            throw BusException.Create(400, BusErrorCodes.InvalidChunkName, "Chunk names look like <owner>-chunk<seq:000000000>.", chunk, null, null);
        var path = "v1/categories/" + Segment(category, "category") + "/chunks/" + Uri.EscapeDataString(chunk)
            + "?offset=" + offset.ToString(CultureInfo.InvariantCulture)
            + (maxBytes is { } max ? "&max_bytes=" + max.ToString(CultureInfo.InvariantCulture) : "");
        return GetJsonAsync(path, static async (response, token) =>
        {
            var data = await response.Content.ReadAsByteArrayAsync(token);
            var next = response.Headers.TryGetValues(BusHeaders.NextOffset, out var values)
                && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
                    ? parsed
                    : throw new BusException($"The server's reply to a chunk read lacks a valid {BusHeaders.NextOffset} header.");
            return new ChunkReadResult(data, next);
        }, cancellationToken);
    }

    /// <summary>A group's lag in a category: bytes and messages behind, age of the oldest unacknowledged message, per-chunk positions and leases.</summary>
    /// <exception cref="BusNotFoundException">Code <c>group_not_found</c>: the group never polled this category; or the category does not exist.</exception>
    public Task<GroupInfo> GetGroupAsync(string category, string group, CancellationToken cancellationToken = default) =>
        GetJsonAsync("v1/categories/" + Segment(category, "category") + "/groups/" + Segment(group, "group"),
            static (response, token) => ReadJsonAsync(response, BusClientJsonContext.Default.GroupInfo, token), cancellationToken);

    /// <summary>Moves a group to the earliest or the latest data, dropping its leases.</summary>
    /// <returns>The group's lag after the move.</returns>
    public Task<GroupInfo> SeekAsync(string category, string group, SeekPosition position, CancellationToken cancellationToken = default) =>
        SeekAsync(category, group, new SeekRequest(Position: position == SeekPosition.Latest ? "latest" : "earliest"), cancellationToken);

    /// <summary>Moves a group to the first message appended at or after <paramref name="time"/>, dropping its leases.</summary>
    /// <returns>The group's lag after the move.</returns>
    public Task<GroupInfo> SeekAsync(string category, string group, DateTimeOffset time, CancellationToken cancellationToken = default) =>
        SeekAsync(category, group, new SeekRequest(Time: time), cancellationToken);

    private Task<GroupInfo> SeekAsync(string category, string group, SeekRequest request, CancellationToken cancellationToken)
    {
        var path = "v1/categories/" + Segment(category, "category") + "/groups/" + Segment(group, "group") + "/seek";
        return ExecuteAsync(
            endpoint => new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, path))
            {
                Content = JsonContent.Create(request, BusClientJsonContext.Default.SeekRequest),
            },
            static (response, _, token) => ReadJsonAsync(response, BusClientJsonContext.Default.GroupInfo, token),
            Options.RequestTimeout, preferredEndpoint: null, cancellationToken);
    }

    private Task<T> GetJsonAsync<T>(string path, Func<HttpResponseMessage, CancellationToken, Task<T>> read, CancellationToken cancellationToken) =>
        ExecuteAsync(
            endpoint => new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, path)),
            (response, _, token) => read(response, token),
            Options.RequestTimeout, preferredEndpoint: null, cancellationToken);
}
