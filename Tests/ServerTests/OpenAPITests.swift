import Foundation
import Hummingbird
import HummingbirdTesting
@testable import LogbookServer
import Testing

/// docs/openapi.yaml stays true: the service serves it verbatim, and its paths and methods are
/// exactly the routes the service has. (Response shapes are checked against a live service by
/// Tools/schemathesis/run.sh.)
extension ServerTests {
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func theServedDocumentIsDocsOpenAPIYaml() async throws {
        let file = try String(contentsOf: Self.repositoryRoot.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        #expect(OpenAPIDocument.yaml + "\n" == file, "docs/openapi.yaml changed: run Tools/sync-openapi.sh")
        try await withServer { client, _ in
            let (status, headers, body) = try await request(client, .get, "/openapi.yaml")
            #expect(status == .ok)
            #expect(headers[.contentType] == "application/yaml")
            #expect(body == file)
        }
    }

    @Test func theDocumentDescribesExactlyTheRoutes() throws {
        var documented: Set<String> = []
        var path: String?
        for line in OpenAPIDocument.yaml.split(separator: "\n") {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(3).dropLast())
            } else if !line.hasPrefix("  "), !line.isEmpty {
                path = nil  // left `paths:`
            } else if let p = path, let method = ["get", "post", "put", "delete", "patch"].first(where: { line == "    \($0):" }) {
                documented.insert(method.uppercased() + " " + p.replacingOccurrences(of: "{id}", with: ":id"))
            }
        }
        let routed = Set(Routes.table.map { "\($0.method.rawValue) \($0.path)" })
        #expect(documented == routed)
    }
}
