using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace StorageCloud.Host.Operator;

/// <summary>Logging in as an openrc says (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME and the domains), for the operator commands.</summary>
public static class OpenRc
{
    /// <summary>A project-scoped token from the OS_* variables, and the token document (project, catalog).</summary>
    public static async Task<(string Token, JsonObject Answer)> LoginAsync()
    {
        string Env(string name, string? fallback = null) =>
            Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fallback ?? throw new InvalidOperationException($"{name} is not set (source the appliance's openrc)");
        using var http = new HttpClient();
        var body = new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["identity"] = new JsonObject
                {
                    ["methods"] = new JsonArray("password"),
                    ["password"] = new JsonObject
                    {
                        ["user"] = new JsonObject
                        {
                            ["name"] = Env("OS_USERNAME"), ["password"] = Env("OS_PASSWORD"), ["domain"] = new JsonObject { ["name"] = Env("OS_USER_DOMAIN_NAME", "Default") },
                        },
                    },
                },
                ["scope"] = new JsonObject
                {
                    ["project"] = new JsonObject { ["name"] = Env("OS_PROJECT_NAME"), ["domain"] = new JsonObject { ["name"] = Env("OS_PROJECT_DOMAIN_NAME", "Default") } },
                },
            },
        };
        using var response = await http.PostAsJsonAsync(Env("OS_AUTH_URL").TrimEnd('/') + "/auth/tokens", body);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"login at {Env("OS_AUTH_URL")} answered {(int)response.StatusCode}");
        return (response.Headers.GetValues("X-Subject-Token").First(), (await response.Content.ReadFromJsonAsync<JsonObject>())!["token"]!.AsObject());
    }

    /// <summary>The public URL of the catalog's <paramref name="type"/> service in a token document, or null.</summary>
    public static string? Endpoint(JsonObject token, string type)
    {
        foreach (var service in token["catalog"]?.AsArray() ?? [])
        {
            if (service?["type"]?.GetValue<string>() != type) continue;
            foreach (var endpoint in service["endpoints"]?.AsArray() ?? [])
                if (endpoint?["interface"]?.GetValue<string>() == "public") return endpoint["url"]?.GetValue<string>();
        }
        return null;
    }
}
