using System.Text.Json;

namespace Foobar.EndToEnd.Tests;

/// <summary>
/// The runtime settings every Foobar process starts with, as built into the executable's
/// runtimeconfig (so `foobar serve` on a real host has them too; docs/architecture.md, "Decisions").
/// </summary>
public class RuntimeSettingsTests
{
    private static JsonElement ConfigProperties()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "foobar.runtimeconfig.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }

    [Fact]
    public void TheExecutable_HasNoProfileGuidedTier()
    {
        // With it a fresh server compiled for a minute under load (up to 47 % of the chain's CPU).
        Assert.False(ConfigProperties().GetProperty("System.Runtime.TieredPGO").GetBoolean());
    }

    [Fact]
    public void TheExecutable_ThreadPoolDoesNotSpin_AndUsesWorkstationGc()
    {
        var properties = ConfigProperties();
        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.False(properties.GetProperty("System.GC.Concurrent").GetBoolean());
    }
}
