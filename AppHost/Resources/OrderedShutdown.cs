using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OrleansBus.AppHost.Resources;

/// <summary>
/// The orchestrator stops every resource at once (SIGTERM, then SIGKILL a few seconds later), so silos would lose
/// PostgreSQL in the middle of leaving the cluster and be killed. This stops the given resources first — gateway, then
/// silos — while PostgreSQL and Azurite still run, so each silo seals, hands over and leaves the membership cleanly.
/// </summary>
internal sealed class OrderedShutdown(ResourceCommandService commands, ILogger<OrderedShutdown> log, IReadOnlyList<IResource> inOrder)
    : IHostedLifecycleService
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private int _ran;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        // The testing builder stops the host twice (StopAsync, then DisposeAsync): run once.
        if (Interlocked.Exchange(ref _ran, 1) == 1)
            return;
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StopTimeout);
        try
        {
            foreach (var resource in inOrder)
                await commands.ExecuteCommandAsync(resource, KnownResourceCommands.StopCommand, deadline.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
            log.LogWarning(e, "Ordered shutdown did not finish within {Seconds} s; the orchestrator stops the rest", StopTimeout.TotalSeconds);
        }
        if (log.IsEnabled(LogLevel.Information))
            log.LogInformation("Stopped {Resources} in {Elapsed} ms", string.Join(", then ", inOrder.Select(r => r.Name)), clock.ElapsedMilliseconds);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

internal static class OrderedShutdownExtensions
{
    /// <summary>On shutdown, stop these resources one after another before the orchestrator stops everything else.</summary>
    public static void StopFirstOnShutdown(this IDistributedApplicationBuilder builder, params IResource[] inOrder) =>
        builder.Services.AddHostedService(services => new OrderedShutdown(
            services.GetRequiredService<ResourceCommandService>(), services.GetRequiredService<ILogger<OrderedShutdown>>(), inOrder));
}
