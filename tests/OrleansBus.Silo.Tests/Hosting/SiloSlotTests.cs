using Microsoft.Extensions.Configuration;
using OrleansBus.Silo.Hosting;
using OrleansBus.Testing;

namespace OrleansBus.Silo.Tests.Hosting;

/// <summary><c>Bus:SiloId=slot</c>: identical replicas (Aspire's WithReplicas) take stable, distinct names and folders.</summary>
public sealed class SiloSlotTests
{
    [Fact]
    public void Replicas_take_the_first_free_names_and_a_released_name_is_taken_again()
    {
        using var dir = new TempDirectory("slot");
        var first = SiloSlot.Claim(dir.Path);
        var second = SiloSlot.Claim(dir.Path);
        Assert.Equal(("silo1", dir.Combine("silo1")), (first.Name, first.Lock.DataDir));
        Assert.Equal(("silo2", dir.Combine("silo2")), (second.Name, second.Lock.DataDir));

        first.Lock.Dispose(); // the process holding silo1 exits
        var again = SiloSlot.Claim(dir.Path);
        Assert.Equal("silo1", again.Name);
        again.Lock.Dispose();
        second.Lock.Dispose();
    }

    [Fact]
    public void Only_the_value_slot_rewrites_the_silo_id_and_folder()
    {
        using var dir = new TempDirectory("slot");
        var named = new ConfigurationManager();
        named["Bus:SiloId"] = "silo7";
        named["Bus:DataDir"] = dir.Path;
        _ = SiloSlot.ClaimIfAsked(named);
        Assert.Equal(("silo7", dir.Path), (named["Bus:SiloId"], named["Bus:DataDir"]));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
