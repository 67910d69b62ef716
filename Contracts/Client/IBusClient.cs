using System.Runtime.CompilerServices;
using OrleansBus.Contracts;

namespace OrleansBus.Client;

/// <summary>
/// What a .NET service does with the bus, over either transport: <see cref="BusClient"/> (REST, to silos or the
/// gateway) or <see cref="OrleansBusClient"/> (grain calls through an Orleans client). The same deliveries, the same
/// batching producer and the same typed exceptions (<see cref="BusException"/> and its kinds) on both, so a service can
/// switch transports by changing its registration. Consumers of one group share it whatever transport each uses.
/// </summary>
public interface IBusClient
{
    /// <summary>Sends one pre-formed batch of newline-terminated messages and waits for its acknowledgement.</summary>
    Task<ProduceResult> ProduceAsync(string category, ReadOnlyMemory<byte> batch, Durability? durability = null, CancellationToken cancellationToken = default);

    /// <summary>A producer that batches single messages on the client (<see cref="BusProducerOptions"/>).</summary>
    BusProducer CreateProducer(string category, BusProducerOptions? options = null);

    /// <summary>One long poll of a consumer group; null when nothing came within the wait.</summary>
    Task<BusDelivery?> PollAsync(string category, string group, ConsumeOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Long polls one after another, yielding each delivery (see <see cref="BusClient.ConsumeAsync"/>).</summary>
    IAsyncEnumerable<BusDelivery> ConsumeAsync(string category, string group, ConsumeOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Lists the categories with their settings.</summary>
    Task<IReadOnlyList<CategoryInfo>> ListCategoriesAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads a category's settings.</summary>
    Task<CategoryInfo> GetCategoryAsync(string category, CancellationToken cancellationToken = default);

    /// <summary>Creates a category with these settings, or changes an existing one's; null fields keep their value.</summary>
    Task<CategoryInfo> PutCategoryAsync(string category, CategorySettingsUpdate settings, CancellationToken cancellationToken = default);

    /// <summary>Starts deleting a category (or reports the deletion under way); its state reads <c>deleting</c> until it is gone.</summary>
    Task<CategoryInfo> DeleteCategoryAsync(string category, CancellationToken cancellationToken = default);

    /// <summary>Lists a category's chunks, oldest first.</summary>
    Task<IReadOnlyList<ChunkInfo>> ListChunksAsync(string category, CancellationToken cancellationToken = default);

    /// <summary>A group's lag in a category.</summary>
    Task<GroupInfo> GetGroupAsync(string category, string group, CancellationToken cancellationToken = default);

    /// <summary>Moves a group to the earliest or the latest data, dropping its leases; returns its lag after the move.</summary>
    Task<GroupInfo> SeekAsync(string category, string group, SeekPosition position, CancellationToken cancellationToken = default);

    /// <summary>Moves a group to the first message appended at or after <paramref name="time"/>; returns its lag after the move.</summary>
    Task<GroupInfo> SeekAsync(string category, string group, DateTimeOffset time, CancellationToken cancellationToken = default);
}

/// <summary>Sends a producer's batches (the transport behind a <see cref="BusProducer"/>).</summary>
internal interface IBatchSender
{
    Task<ProduceResult> ProduceAsync(string category, ReadOnlyMemory<byte> batch, Durability? durability, CancellationToken cancellationToken);

    void Forget(BusProducer producer);
}

/// <summary>Settles a delivery (the transport behind <see cref="BusDelivery.AckAsync(CancellationToken)"/> and <see cref="BusDelivery.NackAsync"/>); <c>route</c> is where the poll was served.</summary>
internal interface IDeliverySettler
{
    Task SettleAsync(BusDelivery delivery, int route, string verb, long? offset, TimeSpan delay, string? reason, CancellationToken cancellationToken);
}

/// <summary>The consume loop both clients share: poll, yield, auto-ack or release, wait for a category that does not exist yet.</summary>
internal static class DeliveryLoop
{
    public static async IAsyncEnumerable<BusDelivery> RunAsync(Func<ConsumeOptions, CancellationToken, Task<BusDelivery?>> poll, ConsumeOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        BusDelivery? previous = null;
        try
        {
            while (true)
            {
                if (previous is { IsSettled: false } && options.AutoAck)
                {
                    // Asking for the next delivery means this one was handled: acknowledge even when cancelled.
                    try
                    {
                        await previous.AckAsync(CancellationToken.None);
                    }
                    catch (BusLeaseLostException)
                    {
                        // Too slow for the lease: the range was (or will be) redelivered; nothing to undo here.
                    }
                }
                previous = null;
                cancellationToken.ThrowIfCancellationRequested();
                BusDelivery? delivery;
                try
                {
                    delivery = await poll(options, cancellationToken);
                }
                catch (BusNotFoundException e) when (e.Code == BusErrorCodes.CategoryNotFound)
                {
                    await Task.Delay(options.WaitTime > TimeSpan.Zero ? options.WaitTime : TimeSpan.FromSeconds(1), cancellationToken);
                    continue;
                }
                if (delivery is null)
                    continue;
                previous = delivery;
                yield return delivery;
            }
        }
        finally
        {
            if (options.AutoAck && previous is { IsSettled: false })
                await ReleaseQuietlyAsync(previous);
        }
    }

    /// <summary>Best effort: gives an unhandled delivery back at once so another consumer need not wait for the lease.</summary>
    private static async Task ReleaseQuietlyAsync(BusDelivery delivery)
    {
        try
        {
            await delivery.NackAsync(TimeSpan.Zero, "consumer left the loop before asking for the next delivery", CancellationToken.None);
        }
        catch (BusException)
        {
            // The lease expires on its own; redelivery just takes longer.
        }
    }
}
