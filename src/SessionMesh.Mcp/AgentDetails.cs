using SessionMesh.Contracts;

namespace SessionMesh.Mcp;

/// <summary>What <c>get_agent</c> answers: the agent, its sub-tree, and its recent commands, newest first.</summary>
public sealed record AgentDetails(AgentView Agent, AgentTreeNode Tree, IReadOnlyList<CommandView> RecentCommands);
