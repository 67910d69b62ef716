using OrleansBus.Contracts;

namespace OrleansBus.Silo.Api;

/// <summary>
/// The refusals only the chukcha-compatible API makes, built on <see cref="BusErrors.Problem"/> so they have the same
/// problem+json shape as every other error. Every other refusal of that API is an existing <see cref="BusErrors"/> entry.
/// chukcha's server answers a refused ack with 500 and plain text, and its client only checks for 200, so the status
/// codes below keep chukcha's (500) where chukcha has one and the body says what happened.
/// </summary>
public static class ChukchaErrors
{
    public static IResult NotComplete(string chunk) =>
        BusErrors.Problem(500, BusErrorCodes.ChunkNotComplete, "Chunk not complete",
            $"Chunk {chunk} is still being written; only a complete chunk can be acknowledged.", chunk);

    public static IResult NotFullyRead(string chunk, long size, long chunkSize) =>
        BusErrors.Problem(500, BusErrorCodes.ChunkNotFullyRead, "Chunk not fully read",
            $"Chunk {chunk} was not fully read: size {size} is smaller than the chunk's size {chunkSize}.", size, chunkSize);

    public static IResult BeyondSize(string chunk, long size, long chunkSize) =>
        BusErrors.InvalidArgument("size", size.ToString(System.Globalization.CultureInfo.InvariantCulture),
            $"the size of chunk {chunk}, {chunkSize}");

    public static IResult Leased(string chunk) =>
        BusErrors.Problem(409, BusErrorCodes.ChunkLeased, "Chunk leased",
            $"A consumer of group {Groups.ConsumerGroups.ChukchaGroup} holds a lease on chunk {chunk}; acknowledge once it is settled.", chunk);

    public static IResult MissingParameter(string name, string rule) =>
        BusErrors.InvalidArgument(name, null, rule + " (required)");
}
