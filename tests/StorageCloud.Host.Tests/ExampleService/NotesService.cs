using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StorageCloud.Auth;
using StorageCloud.Auth.Policy;
using StorageCloud.Common.Configuration;
using StorageCloud.ObjectLayer;
using StorageCloud.Service.Api;
using StorageCloud.Service.Hosting;
using StorageCloud.Service.Http;

namespace StorageCloud.Host.Tests.ExampleService;

/// <summary>
/// The example of docs/services.md: a small OpenStack-style API ("notes") that plugs into the service contract. It
/// declares its port and one option, authenticates callers with Keystone tokens through the auth library, keeps its
/// data as objects in the caller's project account through the typed object layer, answers errors as Nova does,
/// lists itself in the catalog and runs one daemon.
/// </summary>
public sealed class NotesService : StorageCloudService
{
    /// <summary>Server:NotesPort.</summary>
    public static readonly Int32Option PortOption = new("Server", "NotesPort", 8998, 1, 65535, "port of the notes example service") { CommandLine = "--notes-port" };

    /// <summary>The service's own section.</summary>
    public static readonly OptionSection Section = new("Notes");

    private static readonly Int32Option MaxNoteBytes = Section.Int32("MaxNoteBytes", 4096, 1, 1 << 20, "longest note the service keeps");

    /// <inheritdoc />
    public override string Name => "notes";

    /// <inheritdoc />
    public override string Summary => "notes: the example service of docs/services.md";

    /// <inheritdoc />
    public override Int32Option Port => PortOption;

    /// <inheritdoc />
    public override IEnumerable<OptionSection> OptionSections => [Section, AuthConfig.Section, ObjectLayerConfig.Section];

    /// <inheritdoc />
    public override void Register(ServiceContext context, IServiceCollection services)
    {
        var max = MaxNoteBytes.Read(context.Configuration);
        services.AddObjectLayer(context);
        services.AddKeystoneAuth(context);
        services.AddSingleton(sp => new NotesApi(sp.GetRequiredService<ObjectStore>(), max, sp.GetRequiredService<ILogger<NotesApi>>()));
        services.AddSingleton<IDaemonSource>(sp => sp.GetRequiredService<NotesApi>());
    }

    /// <summary>The API of the running service (set when its pipeline is built), for tests to look into.</summary>
    public NotesApi? Api { get; private set; }

    /// <inheritdoc />
    public override void MapPipeline(ServiceContext context, IApplicationBuilder app)
    {
        Api = app.ApplicationServices.GetRequiredService<NotesApi>();
        app.UseMiddleware<TransactionIdMiddleware>(new TransactionIdOptions { Style = RequestIdStyle.OpenStack });
        app.UseMiddleware<HealthcheckMiddleware>(new HealthcheckOptions { DisablePath = context.Host.HealthcheckDisablePath });
        app.UseKeystoneAuth(context, anonymous: c => c.Request.Path == "/");
        app.Run(Api.HandleAsync);
    }

    /// <inheritdoc />
    public override IEnumerable<CatalogEntry> CatalogEntries(ServiceContext context) => [new("notes", "notes", context.UrlOf(Name) + "/v1")];
}

/// <summary>The notes API: GET / (versions), GET /v1/notes, and PUT, GET, DELETE /v1/notes/{name}.</summary>
public sealed class NotesApi : IDaemonSource
{
    private const string Container = "notes";
    private static readonly PolicyTable Policy = new("notes", new Dictionary<string, Allow>
    {
        ["read"] = Allow.ProjectReader | Allow.Admin,
        ["write"] = Allow.ProjectMember | Allow.Admin,
    });

    private readonly ApiRouter<ApiRequest> _router;
    private readonly ObjectStore _objects;
    private readonly int _maxBytes;

    /// <summary>Builds the routes.</summary>
    public NotesApi(ObjectStore objects, int maxBytes, ILogger<NotesApi> logger)
    {
        _objects = objects;
        _maxBytes = maxBytes;
        _router = new ApiRouter<ApiRequest>(ApiErrorFormat.ComputeFault, (c, a) => new ApiRequest(c, a), logger);
        _router.Map("GET", "/", r => ApiResponses.WriteJsonAsync(r.Context, 200,
            new JsonObject { ["versions"] = new JsonArray(new JsonObject { ["id"] = "v1", ["status"] = "CURRENT" }) }));
        _router.Map("GET", "/v1/notes", ListAsync);
        _router.Map("PUT", "/v1/notes/{name}", PutAsync);
        _router.Map("GET", "/v1/notes/{name}", GetAsync);
        _router.Map("DELETE", "/v1/notes/{name}", DeleteAsync);
    }

    /// <summary>How many notes this process has stored since it started (its daemon's count).</summary>
    public int Stored { get; private set; }

    /// <summary>Passes its daemon has run.</summary>
    public int Passes { get; private set; }

    /// <summary>Answers one request.</summary>
    public Task HandleAsync(HttpContext context) => _router.HandleAsync(context);

    /// <inheritdoc />
    public IEnumerable<ServiceDaemon> Daemons() => [new("notes-counter", 1, StartAtOnce: true, _ =>
    {
        Passes++;
        return Task.CompletedTask;
    })];

    private static string Account(ValidatedToken caller) => "AUTH_" + caller.ProjectId;

    private static ValidatedToken Enforce(ApiRequest r, string action)
    {
        var caller = Caller.Require(r.Context);
        if (caller.ProjectId is null) throw ApiError.Forbidden("notes:" + action);
        Policy.Enforce(action, caller, new PolicyTarget(ProjectId: caller.ProjectId));
        return caller;
    }

    private async Task ListAsync(ApiRequest r)
    {
        var caller = Enforce(r, "read");
        var limit = Pagination.Limit(r.Context.Request, 1000);
        IReadOnlyList<ObjectEntry> entries;
        try
        {
            entries = await _objects.ListAsync(Account(caller), Container, marker: r.Query("marker"), limit: limit ?? 1000);
        }
        catch (ObjectNotFoundException)
        {
            entries = [];
        }
        var notes = new JsonArray();
        foreach (var e in entries) notes.Add(new JsonObject { ["name"] = e.Name, ["bytes"] = e.Bytes });
        var body = new JsonObject { ["notes"] = notes };
        if (limit is { } l && entries.Count == l && l > 0) body["notes_links"] = Pagination.NextLinks(r.Context.Request, r.HostUrl, entries[^1].Name);
        await ApiResponses.WriteJsonAsync(r.Context, 200, body);
    }

    private async Task PutAsync(ApiRequest r)
    {
        var caller = Enforce(r, "write");
        var note = JsonBody.Object(await JsonBody.ReadAsync(r.Context, _maxBytes * 2 + 1024), "note", "request body");
        var text = JsonBody.String(note, "text", "note");
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > _maxBytes) throw new ApiError(413, $"A note holds at most {_maxBytes} bytes.");
        await _objects.EnsureContainerAsync(Account(caller), Container);
        await _objects.PutAsync(Account(caller), Container, r.Args[0], new MemoryStream(bytes), bytes.Length, new PutOptions { ContentType = "text/plain; charset=utf-8" });
        Stored++;
        await ApiResponses.WriteJsonAsync(r.Context, 201, new JsonObject { ["note"] = new JsonObject { ["name"] = r.Args[0], ["text"] = text } });
    }

    private async Task GetAsync(ApiRequest r)
    {
        var caller = Enforce(r, "read");
        try
        {
            await using var reader = await _objects.GetAsync(Account(caller), Container, r.Args[0]);
            using var text = new StreamReader(reader.Body, Encoding.UTF8);
            await ApiResponses.WriteJsonAsync(r.Context, 200, new JsonObject { ["note"] = new JsonObject { ["name"] = r.Args[0], ["text"] = await text.ReadToEndAsync() } });
        }
        catch (ObjectNotFoundException)
        {
            throw ApiError.NotFound($"Note {r.Args[0]} could not be found.");
        }
    }

    private async Task DeleteAsync(ApiRequest r)
    {
        var caller = Enforce(r, "write");
        if (!await _objects.DeleteAsync(Account(caller), Container, r.Args[0])) throw ApiError.NotFound($"Note {r.Args[0]} could not be found.");
        await ApiResponses.NoContent(r.Context);
    }
}
