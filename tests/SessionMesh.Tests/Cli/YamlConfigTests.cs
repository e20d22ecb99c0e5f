using System.Text.Json;
using SessionMesh.Cli.Config;
using SessionMesh.Tests.Client;

namespace SessionMesh.Tests.Cli;

public sealed class YamlConfigTests
{
    private const string Key = "sm_test.0123456789abcdef";

    [Fact]
    public void The_seed_example_loads()
    {
        var config = MeshConfigLoader.Parse("config.yaml", "sessions:\n  - id: 123\n  - filter: alive\n");

        var agent = Assert.Single(config.Agents);
        Assert.Equal("123", agent.Id);
        Assert.Empty(agent.Specializations);
        Assert.Equal("alive", config.DefaultFilter);
    }

    [Fact]
    public void A_full_file_loads_every_section()
    {
        const string yaml = """
            cluster: distributed-comms
            sessions:
              - id: planner
                specializations: [planning]
                labels: {zone: eu}
                ttl: 60
              - id: worker-1
                parent: planner
                specializations:
                  - name: image-processing
                    description: resizes images
                    tags: [gpu]
                    version: "2"
                max_runtime: 600
            keys:
              - name: ci
                scopes: [read, steer]
                ttl: 3600
            defaults:
              filter: active
            """;

        var config = MeshConfigLoader.Parse("fleet.yaml", yaml);

        Assert.Equal("distributed-comms", config.Cluster);
        Assert.Equal(["planner", "worker-1"], config.Agents.Select(a => a.Id));
        Assert.Equal("planner", config.Agents[1].ParentId);
        Assert.Equal(new Dictionary<string, string> { ["zone"] = "eu" }, config.Agents[0].Labels);
        Assert.Equal(60, config.Agents[0].Ttl);
        var spec = Assert.Single(config.Agents[1].Specializations);
        Assert.Equal(("image-processing", "resizes images", "2"), (spec.Name, spec.Description, spec.Version));
        Assert.Equal(["gpu"], spec.Tags);
        Assert.Equal(600, config.Agents[1].MaxRuntime);
        var key = Assert.Single(config.Keys);
        Assert.Equal(("ci", 3600), (key.Name, key.Ttl));
        Assert.Equal(["read", "steer"], key.Scopes);
        Assert.Equal("active", config.DefaultFilter);
    }

    [Fact]
    public void Errors_name_file_line_and_column_and_are_all_reported()
    {
        const string yaml = "sessions:\n  - id: 123\n    ttl: forever\n  - id: \"bad id!\"\n  - filter: sideways\nkeys:\n  - name: ci\n    scopes: [read, fly]\n";

        var ex = Assert.Throws<ConfigException>(() => MeshConfigLoader.Parse("fleet.yaml", yaml));

        Assert.Equal(
        [
            "fleet.yaml:3:10: ttl must be a whole number",
            "fleet.yaml:4:9: 'id' must be 1-128 characters of letters, digits and . _ : @ -, starting with a letter or digit.",
            "fleet.yaml:5:13: unknown filter 'sideways'; filters are active, idle, stalled, stale, alive, ended, orphaned, all",
            "fleet.yaml:8:13: unknown scope 'fly'; scopes are read, agent, register, steer, kill, keys, admin, webhooks",
        ], ex.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Invalid_yaml_syntax_names_the_position()
    {
        var ex = Assert.Throws<ConfigException>(() => MeshConfigLoader.Parse("broken.yaml", "sessions:\n  - id: 1\n   - id: 2\n"));

        var error = Assert.Single(ex.Errors);
        Assert.Equal(("broken.yaml", 3L), (error.File, error.Line));
        Assert.StartsWith("invalid YAML", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("agnets:\n  - id: 1\n", "fleet.yaml:1:1: unknown key 'agnets' in the config file; expected one of: cluster, sessions, keys, defaults")]
    [InlineData("sessions:\n  - id: a\n  - id: a\n", "fleet.yaml:3:9: agent 'a' is declared twice (first at line 2)")]
    [InlineData("sessions:\n  - id: a\n    parent: b\n  - id: b\n    parent: a\n", "fleet.yaml:3:13: agent 'a' is part of a parent cycle")]
    [InlineData("sessions:\n  - id: a\n    filter: alive\n", "fleet.yaml:3:5: 'filter' sets the default filter of `session-mesh list`; give it in an entry of its own ('- filter: alive')")]
    [InlineData("sessions:\n  - id: a\n    ttl: 0\n", "fleet.yaml:3:10: ttl must be between 1 and 86400, got 0")]
    [InlineData("keys:\n  - scopes: [read]\n", "fleet.yaml:2:5: a key needs a 'name': it is how applying the file again knows the key exists")]
    public void Schema_errors_point_at_the_offending_node(string yaml, string expected)
    {
        var ex = Assert.Throws<ConfigException>(() => MeshConfigLoader.Parse("fleet.yaml", yaml));

        Assert.Equal(expected, ex.Errors[0].ToString());
    }

    [Fact]
    public async Task Load_config_with_an_error_reports_it_and_applies_nothing()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 201, "{}"));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);
        var file = cli.WriteFile("fleet.yaml", "sessions:\n  - id: a\n    specializations: [planning]\n  - id: b\n    ttl: -5\n");

        var run = (await cli.RunAsync("load-config", file)).Expect(1);

        Assert.Contains($"{file}:5:10: error: ttl must be between 1 and 86400, got -5", run.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was applied", run.Error, StringComparison.Ordinal);
        Assert.Equal(0, server.Count);
    }

    [Fact]
    public async Task Dry_run_prints_the_plan_and_changes_nothing()
    {
        await using var server = await StubServer.StartAsync((context, _) => context.Request.Path.Value switch
        {
            "/api/session-mesh/keys" => StubServer.Json(context, 200, Samples.EmptyPage),
            _ => StubServer.Problem(context, 404, "agent_not_found", "No such agent."),
        });
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);
        var file = cli.WriteFile("fleet.yaml", "sessions:\n  - id: 123\n    specializations: [image-processing]\n  - filter: alive\nkeys:\n  - name: ci\n    scopes: [read]\n");

        var run = (await cli.RunAsync("load-config", file, "--dry-run", "--output", "json")).Expect(0);

        using var json = JsonDocument.Parse(run.Out);
        Assert.True(json.RootElement.GetProperty("dry_run").GetBoolean());
        var actions = json.RootElement.GetProperty("actions").EnumerateArray()
            .Select(a => $"{a.GetProperty("kind").GetString()} {a.GetProperty("target").GetString()} {a.GetProperty("change").GetString()}").ToList();
        Assert.Equal(["agent 123 create", "specialization 123/image-processing create", "key ci create", "list_filter alive update"], actions);
        Assert.All(server.Requests, r => Assert.Equal("GET", r.Method));
        Assert.False(File.Exists(Path.Combine(cli.ConfigDir, "cli.json")));
    }

    [Fact]
    public async Task The_default_filter_from_load_config_is_used_by_list()
    {
        await using var server = await StubServer.StartAsync((context, _) => StubServer.Json(context, 200, Samples.EmptyPage));
        using var cli = new CliHarness().WithServer(server.BaseAddress, Key);
        var file = cli.WriteFile("config.yaml", "sessions:\n  - filter: idle\n");

        (await cli.RunAsync("load-config", file)).Expect(0);
        (await cli.RunAsync("list")).Expect(0);
        var again = (await cli.RunAsync("load-config", file, "--output", "json")).Expect(0);

        Assert.Equal("/api/session-mesh/alive?filter=idle&limit=1000", server.Requests.Last(r => r.PathAndQuery.StartsWith("/api/session-mesh/alive", StringComparison.Ordinal)).PathAndQuery);
        var action = JsonDocument.Parse(again.Out).RootElement.GetProperty("actions")[0];
        Assert.Equal("unchanged", action.GetProperty("change").GetString());
    }
}
