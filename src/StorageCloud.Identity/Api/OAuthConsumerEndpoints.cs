using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using StorageCloud.Auth.Store;
using StorageCloud.Service.Api;

namespace StorageCloud.Identity.Api;

// /v3/OS-OAUTH1/consumers: the consumers of Keystone's OAuth 1.0a extension (registration only; no request or
// access tokens are issued to them).
public sealed partial class IdentityApi
{
    private static readonly string[] ConsumerFields = ["description", "secret"];

    private void MapOAuthConsumers()
    {
        Map("GET", "/v3/OS-OAUTH1/consumers", async r =>
        {
            await r.EnforceAsync("list_consumers");
            var rows = await Store.ListAsync<ConsumerRow>();
            await WriteAsync(r.Context, 200, Views.List("consumers", $"{r.BaseUrl}/OS-OAUTH1/consumers", rows.Select(c => ExtensionViews.Consumer(c, r.BaseUrl))));
        });
        Map("POST", "/v3/OS-OAUTH1/consumers", async r =>
        {
            await r.EnforceAsync("create_consumer");
            var given = JsonBody.OptionalObject(await JsonBody.ReadAsync(r.Context), "consumer", "request body") ?? new JsonObject();
            // The secret is the server's to choose, like the id; it leaves the server once, in this answer.
            var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
            var row = new ConsumerRow
            {
                Id = NewId(),
                Description = JsonBody.OptionalString(given, "description", "consumer"),
                SecretHash = ConsumerSecretHash(secret),
            };
            row.Extra = Views.Compact(ExtensionViews.Extra(given, new JsonObject(), ConsumerFields));
            await Store.InsertAsync(row);
            await WriteAsync(r.Context, 201, new JsonObject { ["consumer"] = ExtensionViews.Consumer(row, r.BaseUrl, secret) });
        });
        Map("GET", "/v3/OS-OAUTH1/consumers/{id}", async r =>
        {
            await r.EnforceAsync("get_consumer");
            var row = await Store.GetAsync<ConsumerRow>(r.Args[0]) ?? throw IdentityError.NotFound("consumer", r.Args[0]);
            await WriteAsync(r.Context, 200, new JsonObject { ["consumer"] = ExtensionViews.Consumer(row, r.BaseUrl) });
        });
        Map("PATCH", "/v3/OS-OAUTH1/consumers/{id}", async r =>
        {
            await r.EnforceAsync("update_consumer");
            var row = await Store.GetAsync<ConsumerRow>(r.Args[0]) ?? throw IdentityError.NotFound("consumer", r.Args[0]);
            var given = JsonBody.Object(await JsonBody.ReadAsync(r.Context), "consumer", "request body");
            if (given.Count == 0) throw IdentityError.Invalid("Expecting to find at least one attribute in consumer.");
            if (given.ContainsKey("secret")) throw IdentityError.Invalid("Invalid input for field 'secret': a consumer's secret cannot be changed.");
            RequireMatchingId(given, row.Id);
            if (given.ContainsKey("description")) row.Description = JsonBody.OptionalString(given, "description", "consumer");
            row.Extra = Views.Compact(ExtensionViews.Extra(given, ExtensionViews.ParseObject(row.Extra), ConsumerFields));
            await Store.UpdateAsync(row);
            await WriteAsync(r.Context, 200, new JsonObject { ["consumer"] = ExtensionViews.Consumer(row, r.BaseUrl) });
        });
        Map("DELETE", "/v3/OS-OAUTH1/consumers/{id}", async r =>
        {
            await r.EnforceAsync("delete_consumer");
            if (!await Store.DeleteAsync<ConsumerRow>(r.Args[0])) throw IdentityError.NotFound("consumer", r.Args[0]);
            await NoContent(r.Context);
        });
    }

    /// <summary>The consumer secret's SHA-256: a 256-bit random secret needs no slow hash to resist guessing.</summary>
    private static string ConsumerSecretHash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>An update body may repeat the resource's id, but not name another (Keystone's 400).</summary>
    private static void RequireMatchingId(JsonObject given, string id)
    {
        if (given["id"] is not null && JsonBody.OptionalString(given, "id", "request body") != id)
            throw IdentityError.Invalid("Cannot change the id of a resource.");
    }
}
