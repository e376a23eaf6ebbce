using System.Text.Json.Nodes;

namespace Gateway.Server.OpenApi;

/// <summary>A request body per operation (by its endpoint name), as a client would send it.</summary>
internal static class RequestExamples
{
    private static readonly Dictionary<string, string> ByOperation = new(StringComparer.Ordinal)
    {
        ["CreateTask"] = """{ "title": "Summarise the incident report", "description": "Three paragraphs, no jargon", "taskType": "summarise", "config": { "model": "large", "maxTokens": 2000 }, "metadata": { "ticket": "INC-1042" }, "workspacePath": "/work/incidents" }""",
        ["ChangeTaskStatus"] = """{ "status": "running", "expectedStatus": "pending" }""",
        ["ReportTaskProgress"] = """{ "progress": 40, "message": "read 4 of 10 documents" }""",
        ["CreateWorkflow"] = """{ "name": "Nightly triage", "description": "Classify, summarise, file", "definition": { "steps": ["classify", "summarise", "file"] } }""",
        ["ChangeWorkflowStatus"] = """{ "status": "active" }""",
        ["AddWorkflowTask"] = """{ "taskId": "0193a3c2-7f4e-7d2a-9a51-2f7f0c6f4b11", "sequence": 0 }""",
        ["ReorderWorkflowTasks"] = """{ "taskIds": ["0193a3c2-7f4e-7d2a-9a51-2f7f0c6f4b11", "0193a3c2-8a10-7b3c-8e22-5d1b9c0e7a42"] }""",
        ["StartToolExecution"] = """{ "toolName": "web_search", "arguments": { "query": "SQLite WAL checkpoint" } }""",
        ["AppendToolOutput"] = """{ "output": "3 results\n", "isStderr": false }""",
        ["CompleteToolExecution"] = """{ "exitCode": 0 }""",
        ["FailToolExecution"] = """{ "error": "rate limited by the search API", "exitCode": 1 }""",
        ["SetConfiguration"] = """{ "value": "30", "valueType": "integer", "description": "Seconds before a tool call is abandoned", "isSecret": false }""",
    };

    public static JsonNode? For(IEnumerable<object> endpointMetadata)
    {
        var name = endpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
        return name is not null && ByOperation.TryGetValue(name, out var json) ? JsonNode.Parse(json) : null;
    }
}
