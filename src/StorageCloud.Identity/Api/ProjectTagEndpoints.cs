using System.Text.Json;
using System.Text.Json.Nodes;
using StorageCloud.Auth.Policy;
using StorageCloud.Auth.Store;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// /v3/projects/{id}/tags: a project's tags, kept as a JSON list on its row, under the API-WG tag rules Keystone follows.
public sealed partial class IdentityApi
{
    private const int MaxProjectTags = 80;

    private void MapProjectTags()
    {
        Map("GET", "/v3/projects/{id}/tags", async r =>
        {
            var project = await TaggedProjectAsync(r, "list_project_tags");
            await WriteAsync(r.Context, 200, TagsBody(ProjectTags(project)));
        });
        Map("PUT", "/v3/projects/{id}/tags", async r =>
        {
            var project = await TaggedProjectAsync(r, "update_project_tags");
            var tags = JsonBody.OptionalStrings(await JsonBody.ReadAsync(r.Context), "tags", "request body")
                ?? throw IdentityError.Invalid("Expecting to find tags in request body.");
            await SaveProjectTagsAsync(project, tags);
            await WriteAsync(r.Context, 200, TagsBody(tags));
        });
        Map("DELETE", "/v3/projects/{id}/tags", async r =>
        {
            var project = await TaggedProjectAsync(r, "delete_project_tags");
            await SaveProjectTagsAsync(project, []);
            await NoContent(r.Context);
        });
        Map("GET", "/v3/projects/{id}/tags/{tag}", async r =>
        {
            var project = await TaggedProjectAsync(r, "get_project_tag");
            if (!ProjectTags(project).Contains(r.Args[1])) throw IdentityError.NotFound("project tag", r.Args[1]);
            await NoContent(r.Context);
        });
        Map("PUT", "/v3/projects/{id}/tags/{tag}", async r =>
        {
            var project = await TaggedProjectAsync(r, "create_project_tag");
            var tags = ProjectTags(project);
            // As in Keystone, adding a tag the project already has breaks the no-duplicates rule (400).
            tags.Add(r.Args[1]);
            await SaveProjectTagsAsync(project, tags);
            r.Context.Response.Headers.Location = $"{r.BaseUrl}/projects/{project.Id}/tags/{Uri.EscapeDataString(r.Args[1])}";
            await NoContent(r.Context, 201);
        });
        Map("DELETE", "/v3/projects/{id}/tags/{tag}", async r =>
        {
            var project = await TaggedProjectAsync(r, "delete_project_tag");
            var tags = ProjectTags(project);
            if (!tags.Remove(r.Args[1])) throw IdentityError.NotFound("project tag", r.Args[1]);
            await SaveProjectTagsAsync(project, tags);
            await NoContent(r.Context);
        });
    }

    private async Task<ProjectRow> TaggedProjectAsync(IdentityRequest r, string action)
    {
        var project = await Store.GetAsync<ProjectRow>(r.Args[0]) ?? throw IdentityError.NotFound("project", r.Args[0]);
        await r.EnforceAsync(action, new PolicyTarget(ProjectId: project.Id));
        return project;
    }

    private async Task SaveProjectTagsAsync(ProjectRow project, List<string> tags)
    {
        project.Tags = ProjectTagsJson(tags);
        await Store.UpdateAsync(project);
    }

    private static JsonObject TagsBody(IEnumerable<string> tags) => new() { ["tags"] = new JsonArray(tags.Select(t => (JsonNode?)t).ToArray()) };

    private static List<string> ProjectTags(ProjectRow project) => JsonSerializer.Deserialize<List<string>>(project.Tags) ?? [];

    /// <summary>The tags of a project body as the row stores them, when the body sets them.</summary>
    private static string? ProjectTagsJson(JsonObject given) =>
        JsonBody.OptionalStrings(given, "tags", "project") is { } tags ? ProjectTagsJson(tags) : null;

    /// <summary>The stored form of a tag list, after the API-WG rules: at most 80, distinct, 1 to 255 characters, no '/' or ','.</summary>
    private static string ProjectTagsJson(List<string> tags)
    {
        if (tags.Count > MaxProjectTags) throw IdentityError.Invalid($"Invalid input for field 'tags': a project has at most {MaxProjectTags} tags.");
        if (tags.Distinct(StringComparer.Ordinal).Count() != tags.Count) throw IdentityError.Invalid("Invalid input for field 'tags': tags must be unique.");
        foreach (var tag in tags)
        {
            if (tag.Length is 0 or > 255) throw IdentityError.Invalid("Invalid input for field 'tags': a tag is 1 to 255 characters.");
            if (tag.Contains('/') || tag.Contains(',')) throw IdentityError.Invalid($"Invalid input for field 'tags': '{tag}' contains '/' or ','.");
        }
        return JsonSerializer.Serialize(tags);
    }

    /// <summary>A project or domain name: Keystone allows 1 to 64 characters, not all blank.</summary>
    private static string ResourceName(string name)
    {
        JsonBody.Name(name, "name");
        if (name.Length > 64) throw IdentityError.Invalid("Invalid input for field 'name': longer than 64 characters.");
        return name;
    }
}
