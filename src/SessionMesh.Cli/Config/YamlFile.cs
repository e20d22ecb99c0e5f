using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SessionMesh.Cli.Config;

/// <summary>
/// Reads YAML into YamlDotNet's node model, which keeps each node's position, so every error can name
/// the file, line and column. Problems are collected rather than thrown one at a time.
/// </summary>
internal sealed class YamlFile
{
    private readonly List<ConfigError> _errors = [];

    private YamlFile(string displayName, YamlNode? root)
    {
        DisplayName = displayName;
        Root = root;
    }

    public string DisplayName { get; }

    /// <summary>The document's root node; null for an empty file.</summary>
    public YamlNode? Root { get; }

    public IReadOnlyList<ConfigError> Errors => _errors;

    public static YamlFile Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([new ConfigError(path, 1, 1, $"cannot read the file: {ex.Message}")]);
        }
        return Parse(path, text);
    }

    public static YamlFile Parse(string displayName, string text)
    {
        var stream = new YamlStream();
        var parser = new TrackingParser(new Parser(new StringReader(text)));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            var message = ex.InnerException is YamlException inner ? inner.Message : ex.Message;
            throw new ConfigException([new ConfigError(displayName, ex.Start.Line, ex.Start.Column, $"invalid YAML: {message}")]);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            // YamlDotNet's scanner fails on some malformed input (an unclosed [ followed by more lines) with an
            // exception that carries no position: point at the collection left open, else at the last thing read.
            throw new ConfigException([parser.OpenFlow is { } open
                ? new ConfigError(displayName, open.Start.Line, open.Start.Column, $"invalid YAML: this {(open is YamlDotNet.Core.Events.SequenceStart ? "'[' is never closed with ']'" : "'{' is never closed with '}'")}")
                : new ConfigError(displayName, parser.Last.Line, parser.Last.Column, $"invalid YAML: cannot read what follows ({ex.Message})")]);
        }
        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode.Start;
            throw new ConfigException([new ConfigError(displayName, second.Line, second.Column, "expected one YAML document, found several")]);
        }
        return new YamlFile(displayName, stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode);
    }

    public void Error(YamlNode node, string message) => _errors.Add(new ConfigError(DisplayName, node.Start.Line, node.Start.Column, message));

    public void ThrowIfErrors()
    {
        if (_errors.Count > 0)
        {
            throw new ConfigException(_errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList());
        }
    }

    /// <summary>The entries of a mapping, checked against the allowed keys (aliases map to one canonical name).</summary>
    public Dictionary<string, (YamlNode Key, YamlNode Value)> Mapping(YamlNode node, string what, IReadOnlyDictionary<string, string> allowed)
    {
        var result = new Dictionary<string, (YamlNode, YamlNode)>(StringComparer.Ordinal);
        if (node is not YamlMappingNode mapping)
        {
            Error(node, $"{what} must be a mapping of key: value");
            return result;
        }
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = (keyNode as YamlScalarNode)?.Value ?? "";
            if (!allowed.TryGetValue(key, out var canonical))
            {
                Error(keyNode, $"unknown key '{key}' in {what}; expected one of: {string.Join(", ", allowed.Keys.Where(k => allowed[k] == k))}");
                continue;
            }
            if (result.ContainsKey(canonical))
            {
                Error(keyNode, $"'{key}' is given twice in {what}");
                continue;
            }
            result[canonical] = (keyNode, valueNode);
        }
        return result;
    }

    public string? String(YamlNode node, string what)
    {
        if (node is YamlScalarNode scalar && scalar.Value is { } value && !IsNull(scalar))
        {
            return value;
        }
        Error(node, $"{what} must be a string");
        return null;
    }

    public int? Int(YamlNode node, string what, int min, int max)
    {
        if (node is YamlScalarNode scalar && int.TryParse(scalar.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            if (value < min || value > max)
            {
                Error(node, $"{what} must be between {min} and {max}, got {value}");
                return null;
            }
            return value;
        }
        Error(node, $"{what} must be a whole number");
        return null;
    }

    /// <summary>A list of strings; a single scalar is accepted as a list of one (<c>tags: gpu</c>), and a comma list is split.</summary>
    public List<string> StringList(YamlNode node, string what)
    {
        var result = new List<string>();
        switch (node)
        {
            case YamlScalarNode scalar when !IsNull(scalar):
                result.AddRange((scalar.Value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                break;
            case YamlSequenceNode sequence:
                foreach (var item in sequence.Children)
                {
                    if (String(item, $"each item of {what}") is { } value)
                    {
                        result.Add(value);
                    }
                }
                break;
            default:
                Error(node, $"{what} must be a list of strings");
                break;
        }
        return result;
    }

    public Dictionary<string, string> StringMap(YamlNode node, string what)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is not YamlMappingNode mapping)
        {
            Error(node, $"{what} must be a mapping of key: value");
            return result;
        }
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var key = String(keyNode, $"a key of {what}");
            var value = String(valueNode, $"{what}.{key}");
            if (key is not null && value is not null)
            {
                result[key] = value;
            }
        }
        return result;
    }

    /// <summary>Remembers where parsing got to, for errors that YamlDotNet raises without a position.</summary>
    private sealed class TrackingParser(IParser inner) : IParser
    {
        private readonly Stack<YamlDotNet.Core.Events.ParsingEvent> _flows = new();

        public YamlDotNet.Core.Events.ParsingEvent? Current => inner.Current;

        public Mark Last { get; private set; } = new(0, 1, 1);

        /// <summary>The innermost flow collection (<c>[...]</c>, <c>{...}</c>) opened and not yet closed.</summary>
        public YamlDotNet.Core.Events.ParsingEvent? OpenFlow => _flows.Count > 0 ? _flows.Peek() : null;

        public bool MoveNext()
        {
            var moved = inner.MoveNext();
            switch (inner.Current)
            {
                case YamlDotNet.Core.Events.SequenceStart { Style: YamlDotNet.Core.Events.SequenceStyle.Flow } or YamlDotNet.Core.Events.MappingStart { Style: YamlDotNet.Core.Events.MappingStyle.Flow }:
                    _flows.Push(inner.Current);
                    break;
                case YamlDotNet.Core.Events.SequenceEnd or YamlDotNet.Core.Events.MappingEnd when _flows.Count > 0 && IsFlowEnd(inner.Current):
                    _flows.Pop();
                    break;
            }
            if (inner.Current is { } current)
            {
                Last = current.Start;
            }
            return moved;
        }

        // A block collection's end closes no flow collection; ends pair with starts, so compare kinds with the top.
        private bool IsFlowEnd(YamlDotNet.Core.Events.ParsingEvent end) =>
            (end is YamlDotNet.Core.Events.SequenceEnd && _flows.Peek() is YamlDotNet.Core.Events.SequenceStart)
            || (end is YamlDotNet.Core.Events.MappingEnd && _flows.Peek() is YamlDotNet.Core.Events.MappingStart);
    }

    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";
}
