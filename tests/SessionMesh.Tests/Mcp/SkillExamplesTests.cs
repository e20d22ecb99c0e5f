using System.Diagnostics;
using System.Text.RegularExpressions;
using SessionMesh.Client;
using SessionMesh.Model;
using SessionMesh.Tests.Infrastructure;

namespace SessionMesh.Tests.Mcp;

/// <summary>
/// skills/session-mesh/SKILL.md promises that its examples work as written: every <c>sh</c> block is run, in order,
/// by bash against a real server with the built <c>session-mesh</c> on the PATH, and must succeed.
/// </summary>
public sealed partial class SkillExamplesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_example_in_the_skill_runs_against_a_real_server()
    {
        var blocks = ShBlocks(File.ReadAllText(SkillPath()));
        Assert.True(blocks.Count >= 11, $"SKILL.md has {blocks.Count} sh blocks");
        await using var server = await MeshTestServer.StartAsync();
        using var bin = new TempDirectory();
        var wrapper = Path.Combine(bin.Path, "session-mesh");
        File.WriteAllText(wrapper, $"#!/bin/sh\nexec dotnet '{ServeProcess.CliPath}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var script = Path.Combine(bin.Path, "examples.sh");
        // -x: the log shows which command failed.
        File.WriteAllText(script, "set -euxo pipefail\n" + string.Join("\n", blocks) + "\n");

        var (exitCode, output) = await RunBashAsync(script, new Dictionary<string, string>
        {
            ["PATH"] = bin.Path + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["SESSION_MESH_URL"] = server.BaseAddress.ToString().TrimEnd('/'),
            ["SESSION_API_KEY"] = server.RootKey,
            ["SESSION_MESH_CONFIG_DIR"] = bin.Path,
        });

        Assert.True(exitCode == 0, "The SKILL.md examples failed:\n" + output);
        using var api = new SessionMeshClient(server.BaseAddress, server.RootKey);
        var planner = await api.GetAgentAsync("planner-7", Ct);
        Assert.Equal(SessionStatus.Killed, planner.Status);
        var registry = await api.ListRegistryAsync("image-processing", cancellationToken: Ct);
        Assert.Equal("worker-1", Assert.Single(registry.Items).AgentId);
        Assert.Contains((await api.ListKeysAsync(cancellationToken: Ct)).Items, k => k.Name == "worker-1" && k.AgentId == "worker-1");
        // The wrapped agent: the steer reached its stdin, its output was kept, its progress counted against the lead's
        // budget, and the kill stopped it (the kill is acked, ending the session, only once its process tree is gone).
        var scoutLogs = await api.GetLogsAsync("scout-1", cancellationToken: Ct);
        Assert.Contains(scoutLogs.Items, l => l.Text.StartsWith("got: ", StringComparison.Ordinal) && l.Text.Contains("map the north wing", StringComparison.Ordinal));
        Assert.Contains(scoutLogs.Items, l => l.Text == "reported 1000 tokens");
        Assert.Equal(SessionStatus.Killed, (await api.GetAgentAsync("scout-1", Ct)).Status);
        var usage = await api.GetUsageAsync("lead-3", cancellationToken: Ct);
        Assert.Equal(1000, usage.RolledUp.Tokens);
        Assert.Equal(99_000, usage.Left!.Tokens);
    }

    /// <summary>The bodies of the ```sh blocks, in order.</summary>
    internal static List<string> ShBlocks(string markdown) =>
        ShBlock().Matches(markdown).Select(m => m.Groups["body"].Value).ToList();

    [GeneratedRegex(@"^```sh\n(?<body>.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex ShBlock();

    private static string SkillPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "skills", "session-mesh", "SKILL.md");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException("skills/session-mesh/SKILL.md not found above " + AppContext.BaseDirectory);
    }

    private static async Task<(int ExitCode, string Output)> RunBashAsync(string script, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        foreach (var name in new[] { "SESSION_MESH_MINTING_KEY", "SESSION_MESH_CA_CERT", "NO_COLOR" })
        {
            start.Environment.Remove(name);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        try
        {
            await process.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromMinutes(3), Ct);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
