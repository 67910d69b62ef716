using OrleansBus.Testing;
using System.Net;

namespace OrleansBus.IntegrationTests.Cluster;

/// <summary>
/// A silo paused (SIGSTOP) past its death declaration, then resumed: a replica has sealed its active chunk at the
/// replicated size meanwhile, so the paused owner must acknowledge nothing more (its fence), and the sealed chunk reads
/// the same on every silo before and after — no byte the owner held unacknowledged shows up at an offset readers saw.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class FencingTests
{
    private const string Category = "fenced";

    [Fact]
    public async Task A_silo_resumed_after_being_declared_dead_acknowledges_nothing_and_readers_never_see_its_unacknowledged_bytes()
    {
        await using var cluster = await TestCluster.StartAsync("fence", silos: 3);
        var owner = cluster["s1"];
        var reader = cluster["s2"];
        var producer = new NumberedProducer(cluster.Http, Category, "f", messagesPerBatch: 20);
        for (var i = 0; i < 20; i++)
        {
            Assert.True(await producer.ProduceNextAsync(owner.BaseUrl, "min_sync_replicas=1") is not null,
                $"A produce before the pause failed: {producer.Failed.Values.LastOrDefault()}\n{cluster.Logs()}");
        }
        var writing = producer.Acknowledged.Values.Select(r => r.Chunk).Distinct().Single();

        // Paused: requests sent now wait in the socket until it resumes (longer than the cluster client's 30 s allows).
        using var patient = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        ProcessPause.Stop(owner.Pid);
        var paused = new List<Task<HttpStatusCode?>>();
        try
        {
            for (var i = 0; i < 8; i++)
                paused.Add(PostAsync(patient, owner.BaseUrl, $"paused-{i}\n"));
            await cluster.WaitUntilAsync(async () => (await cluster.OrleansMembershipAsync()).Any(r => r.SiloName == owner.SiloId && r.Status == OrleansRow.Dead),
                $"{owner.SiloId} declared dead while paused", TimeSpan.FromSeconds(40));
            var sealedRow = await cluster.WaitForAsync(async () => (await cluster.CatalogAsync(Category)).SingleOrDefault(r => r.Name == writing && r.State != "active"),
                $"{writing} sealed by a replica while its owner is paused", TimeSpan.FromSeconds(30));
            Assert.True(sealedRow.SealedBy is "s2" or "s3", $"{writing} was sealed by {sealedRow.SealedBy}.");
            var seen = await cluster.ReadChunkAsync(reader.BaseUrl, Category, writing, sealedRow.Size);

            ProcessPause.Continue(owner.Pid);
            var answers = await Task.WhenAll(paused);
            Assert.True(answers.All(a => a != HttpStatusCode.OK),
                $"The resumed owner acknowledged {answers.Count(a => a == HttpStatusCode.OK)} of {answers.Length} writes after being declared dead: {string.Join(", ", answers)}\n{cluster.Logs()}");

            // Orleans stops a silo that learns it was declared dead; a fresh start re-publishes whatever it kept.
            await cluster.WaitUntilAsync(() => Task.FromResult(!owner.IsRunning), $"{owner.SiloId} leaving after it learned it was declared dead", TimeSpan.FromSeconds(30));
            await owner.StartAsync();
            await cluster.WaitForMembersAsync(cluster.Silos, TimeSpan.FromSeconds(30));
            var catalog = (await cluster.CatalogAsync(Category)).Single(r => r.Name == writing);
            Assert.Equal(sealedRow.Size, catalog.Size);
            foreach (var silo in cluster.Silos)
            {
                var now = await cluster.ReadChunkAsync(silo.BaseUrl, Category, writing, sealedRow.Size);
                Assert.True(now.AsSpan().SequenceEqual(seen), $"{silo.SiloId} serves different bytes of {writing} than readers saw before the resume.");
            }
        }
        finally
        {
            if (owner.IsRunning)
                ProcessPause.Continue(owner.Pid); // never leave a stopped process behind
        }
    }

    private static async Task<HttpStatusCode?> PostAsync(HttpClient http, string baseUrl, string body)
    {
        try
        {
            using var response = await http.PostAsync(new Uri($"{baseUrl}/v1/categories/{Category}/messages"), new StringContent(body));
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return null; // the connection broke: nothing was acknowledged
        }
    }
}
