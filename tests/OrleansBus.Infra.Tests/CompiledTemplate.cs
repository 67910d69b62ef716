using System.Text.Json.Nodes;

namespace OrleansBus.Infra.Tests;

/// <summary>One resource of the compiled ARM template, found at any depth (modules compile to nested deployments).</summary>
internal sealed record ArmResource(string Type, JsonObject Node, JsonObject Template)
{
    public JsonNode? Properties => Node["properties"];
}

/// <summary><c>infra/main.bicep</c> compiled by the real Bicep CLI into ARM JSON, with its resources and outputs walked.</summary>
internal sealed class CompiledTemplate
{
    private CompiledTemplate(JsonObject root)
    {
        Root = root;
        Walk(root);
    }

    public JsonObject Root { get; }

    /// <summary>Every resource, nested deployments' resources included (the deployments themselves too).</summary>
    public List<ArmResource> Resources { get; } = [];

    /// <summary>Every template's outputs: (template path, output name, output node).</summary>
    public List<(string Template, string Name, JsonObject Output)> Outputs { get; } = [];

    public static async Task<CompiledTemplate> BuildAsync()
    {
        var result = await Bicep.RunAsync("build", Path.Combine(Bicep.InfraDir, "main.bicep"), "--stdout");
        Assert.True(result.ExitCode == 0, $"bicep build main.bicep exited {result.ExitCode}:\n{result.Errors}");
        return new CompiledTemplate(JsonNode.Parse(result.Output)!.AsObject());
    }

    public IEnumerable<ArmResource> OfType(string type) =>
        Resources.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase));

    private void Walk(JsonObject template, string path = "main")
    {
        if (template["outputs"] is JsonObject outputs)
        {
            foreach (var (name, output) in outputs)
                Outputs.Add((path, name, output!.AsObject()));
        }
        // languageVersion 2.0 templates keep resources in an object keyed by symbolic name; older ones in an array.
        IEnumerable<JsonNode?> resources = template["resources"] switch
        {
            JsonArray array => array,
            JsonObject byName => byName.Select(p => p.Value),
            _ => [],
        };
        foreach (var node in resources)
        {
            if (node is not JsonObject resource || resource["type"]?.GetValue<string>() is not { } type)
                continue;
            Resources.Add(new ArmResource(type, resource, template));
            if (type == "Microsoft.Resources/deployments" && resource["properties"]?["template"] is JsonObject nested)
                Walk(nested, path + "/" + (resource["name"]?.ToJsonString() ?? "?"));
        }
    }
}
