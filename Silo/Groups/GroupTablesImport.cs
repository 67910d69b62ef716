using OrleansBus.Contracts.Grains;
using OrleansBus.Silo.Metadata;

namespace OrleansBus.Silo.Groups;

/// <summary>
/// Upgrading from the version that kept consumer groups in tables: at start, after Orleans and before the silo serves,
/// activates every group those tables hold (its grain carries the offsets into grain state on activation, see
/// <see cref="Grains.ConsumerGroupGrain"/>), then drops the tables. A grain activated first by a poll imports the same
/// way, so order does not matter; several silos starting at once import the same groups harmlessly (a grain imports
/// only when it has no state). A failure leaves the tables for the next start and is logged, not fatal: nothing is lost,
/// because a group's grain still reads them on activation.
/// </summary>
internal sealed partial class GroupTablesImport(LegacyGroupTables tables, IGrainFactory grains, ILogger<GroupTablesImport> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await tables.ExistAsync(cancellationToken))
                return;
            var groups = await tables.ListAsync(cancellationToken);
            foreach (var (category, group) in groups)
                await grains.GetGrain<IConsumerGroupGrain>(GrainKeys.ConsumerGroup(category, group)).GetAsync("");
            await tables.DropAsync(cancellationToken);
            LogImported(logger, groups.Count);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(logger, e);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(2303, LogLevel.Information, "Consumer groups: {Count} groups carried from the group tables into grain state; the tables are dropped")]
    private static partial void LogImported(ILogger logger, int count);

    [LoggerMessage(2304, LogLevel.Warning, "Consumer groups: carrying the group tables into grain state failed; they stay, and each group's grain reads them on activation")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
