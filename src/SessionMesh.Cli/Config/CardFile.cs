using System.Text.Json;
using SessionMesh.Mesh;
using YamlDotNet.RepresentationModel;

namespace SessionMesh.Cli.Config;

/// <summary>
/// An A2A Agent Card file named by a <c>load-config</c> agent (<c>card: ./cards/reviewer.json</c>, relative to the YAML
/// file): read and checked against the card rules the server applies, so a bad card is reported with the YAML line
/// that names it before anything is applied.
/// </summary>
internal static class CardFile
{
    public static JsonElement? Read(YamlFile yaml, YamlNode node, string baseDirectory)
    {
        if (node is not YamlScalarNode { Value: { Length: > 0 } name })
        {
            return null;
        }
        var path = Path.GetFullPath(name, baseDirectory);
        try
        {
            if (new FileInfo(path).Length > AgentCardRules.MaxCardBytes)
            {
                yaml.Error(node, $"card {name}: larger than {AgentCardRules.MaxCardBytes} bytes");
                return null;
            }
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return AgentCardRules.Check(document.RootElement.Clone()).Element;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            yaml.Error(node, $"card {name}: cannot read {path}: {ex.Message}");
        }
        catch (JsonException ex)
        {
            yaml.Error(node, $"card {name}: not JSON: {ex.Message}");
        }
        catch (MeshException ex)
        {
            yaml.Error(node, $"card {name}: not a valid A2A Agent Card: {ex.Message}");
        }
        return null;
    }
}
