namespace OrleansBus.Infra.Tests;

/// <summary>
/// Every Bicep file compiles and lints clean with the real compiler (warnings are failures; bicepconfig.json raises the
/// rules that matter to errors), and the parameters file matches the template.
/// </summary>
public sealed class BicepCompilerTests
{
    public static TheoryData<string> BicepFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in Bicep.Files())
            data.Add(Path.GetRelativePath(Bicep.InfraDir, file));
        return data;
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Builds_with_no_warning(string file)
    {
        var result = await Bicep.RunAsync("build", Path.Combine(Bicep.InfraDir, file), "--stdout");
        Assert.True(result.ExitCode == 0, $"bicep build {file} exited {result.ExitCode}:\n{result.Errors}");
        Assert.True(result.Errors.Trim().Length == 0, $"bicep build {file} reported:\n{result.Errors}");
        Assert.StartsWith("{", result.Output.TrimStart(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Lints_with_no_warning(string file)
    {
        var result = await Bicep.RunAsync("lint", Path.Combine(Bicep.InfraDir, file));
        Assert.True(result.ExitCode == 0 && (result.Output + result.Errors).Trim().Length == 0,
            $"bicep lint {file} exited {result.ExitCode}:\n{result.Output}{result.Errors}");
    }

    [Fact]
    public async Task The_parameters_file_builds_against_the_template()
    {
        var result = await Bicep.RunAsync("build-params", Path.Combine(Bicep.InfraDir, "main.bicepparam"), "--stdout");
        Assert.True(result.ExitCode == 0 && result.Errors.Trim().Length == 0, $"bicep build-params exited {result.ExitCode}:\n{result.Errors}");
        var parameters = System.Text.Json.Nodes.JsonNode.Parse(
            System.Text.Json.Nodes.JsonNode.Parse(result.Output)!["parametersJson"]!.GetValue<string>())!["parameters"]!;
        Assert.Equal(3, parameters["siloCount"]!["value"]!.GetValue<int>());
        Assert.Equal("orleansbus", parameters["postgresAdminLogin"]!["value"]!.GetValue<string>());
    }
}
