using System.Text.Json.Nodes;

namespace SessionMesh.Tests.Cards;

/// <summary>A2A 1.0 Agent Cards for the tests, as JSON text, built from a valid card a test then breaks on purpose.</summary>
public static class SampleCards
{
    /// <summary>A valid card whose skills have the given ids (each with a name, a description and tags), and a field A2A does not define.</summary>
    public static JsonObject Card(string name, params string[] skillIds) => new()
    {
        ["name"] = name,
        ["description"] = $"{name}, an agent of the tests",
        ["supportedInterfaces"] = new JsonArray(new JsonObject
        {
            ["url"] = $"https://agents.example.com/{name}/a2a/v1",
            ["protocolBinding"] = "JSONRPC",
            ["protocolVersion"] = "1.0",
        }),
        ["version"] = "1.2.0",
        ["capabilities"] = new JsonObject { ["streaming"] = true },
        ["defaultInputModes"] = new JsonArray("text/plain"),
        ["defaultOutputModes"] = new JsonArray("text/plain", "application/json"),
        ["skills"] = new JsonArray(skillIds.Select(id => (JsonNode)new JsonObject
        {
            ["id"] = id,
            ["name"] = $"The {id} skill",
            ["description"] = $"Does {id}.",
            ["tags"] = new JsonArray("tests", id),
            ["examples"] = new JsonArray($"please {id} this"),
        }).ToArray()),
        ["x-vendor-extra"] = new JsonObject { ["kept"] = "as given, é and all" },
    };

    public static string Json(string name, params string[] skillIds) => Card(name, skillIds).ToJsonString();
}
