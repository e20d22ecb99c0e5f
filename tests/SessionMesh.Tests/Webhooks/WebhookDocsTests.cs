namespace SessionMesh.Tests.Webhooks;

/// <summary>docs/webhooks.md shows the C# verifier the delivery tests run, not a copy that could drift from it.</summary>
public sealed class WebhookDocsTests
{
    private const string Begin = "// --- snippet: begin ---\n";
    private const string End = "// --- snippet: end ---";

    [Fact]
    public void The_docs_csharp_snippet_is_the_verifier_the_tests_use()
    {
        var source = File.ReadAllText(Find("tests/SessionMesh.Tests/Webhooks/WebhookVerifier.cs")).ReplaceLineEndings("\n");
        var start = source.IndexOf(Begin, StringComparison.Ordinal) + Begin.Length;
        var snippet = source[start..source.IndexOf(End, start, StringComparison.Ordinal)];
        Assert.Contains("FixedTimeEquals", snippet, StringComparison.Ordinal);

        var docs = File.ReadAllText(Find("docs/webhooks.md")).ReplaceLineEndings("\n");
        Assert.Contains("```csharp\n" + snippet + "```", docs, StringComparison.Ordinal);
    }

    private static string Find(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}");
    }
}
