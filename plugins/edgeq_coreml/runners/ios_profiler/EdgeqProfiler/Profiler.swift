// The request / result exchange of edgeq's iphone runner (its module docstring is the
// contract): flat files in the app's Documents, `edgeq-req-*` in, `edgeq-res-*` out.
import CoreML
import Foundation

struct InputSpec: Codable { let name: String; let shape: [Int]; let dtype: String }

struct Request: Codable {
    let format: Int
    let model: String
    let compute_units: String
    let runs: Int
    let warmup: Int
    let samples: Int
    let inputs: [InputSpec]
    let outputs: [String]
    let files: [String: String]
}

struct OutputSpec: Codable { let name: String; let shape: [Int] }
struct DeviceInfo: Codable { let model: String; let os_version: String }

struct Result: Codable {
    var format = 1
    var samples = 0
    var compile_ms = 0.0
    var load_ms = 0.0
    var samples_ms: [Double] = []
    var device: DeviceInfo
    var outputs: [OutputSpec] = []
    var error: String?
}

enum ProfilerError: Error, CustomStringConvertible {
    case bad(String)
    var description: String { if case .bad(let s) = self { return s }; return "" }
}

enum Profiler {
    static let resultPrefix = "edgeq-res-"

    static var documents: URL {
        FileManager.default.urls(for: .documentDirectory, in: .userDomainMask)[0]
    }

    /// Profile the request at `requestPath` (relative to the app's home), write the
    /// result; 0 when the result was written (an error is reported inside it).
    static func run(requestPath: String) -> Int32 {
        var result = Result(device: deviceInfo())
        do {
            try profile(URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(requestPath), &result)
        } catch {
            result.error = "\(error)"
        }
        do {
            let data = try JSONEncoder().encode(result)
            try data.write(to: documents.appendingPathComponent(resultPrefix + "result.json"))
            return 0
        } catch {
            return 1
        }
    }

    static func profile(_ requestURL: URL, _ result: inout Result) throws {
        let request = try JSONDecoder().decode(Request.self, from: Data(contentsOf: requestURL))
        guard request.format == 1 else { throw ProfilerError.bad("request format \(request.format), app reads 1") }
        // rebuild the package and the inputs from the flat files devicectl copied
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("edgeq-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        for (flat, path) in request.files {
            let target = work.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: documents.appendingPathComponent(flat), to: target)
        }
        var t = DispatchTime.now()
        let compiled = try MLModel.compileModel(at: work.appendingPathComponent(request.model))
        result.compile_ms = elapsedMs(since: t)
        let config = MLModelConfiguration()
        config.computeUnits = try computeUnits(request.compute_units)
        t = DispatchTime.now()
        let model = try MLModel(contentsOf: compiled, configuration: config)
        result.load_ms = elapsedMs(since: t)

        var providers: [MLFeatureProvider] = []
        for k in 0..<request.samples {
            var features: [String: MLFeatureValue] = [:]
            for spec in request.inputs {
                let file = work.appendingPathComponent("inputs/\(k)/\(spec.name).bin")
                features[spec.name] = MLFeatureValue(multiArray: try multiArray(file, spec))
            }
            providers.append(try MLDictionaryFeatureProvider(dictionary: features))
        }
        for (k, provider) in providers.enumerated() {
            let out = try model.prediction(from: provider)
            for (j, name) in request.outputs.enumerated() {
                guard let array = out.featureValue(for: name)?.multiArrayValue else {
                    throw ProfilerError.bad("output '\(name)' is not a multiarray")
                }
                let shaped = MLShapedArray<Float>(converting: array)
                if k == 0 { result.outputs.append(OutputSpec(name: name, shape: shaped.shape)) }
                let bytes = shaped.scalars.withUnsafeBufferPointer { Data(buffer: $0) }
                try bytes.write(to: documents.appendingPathComponent(resultPrefix + "output-\(k)-\(j).bin"))
            }
        }
        result.samples = request.samples
        for _ in 0..<request.warmup { _ = try model.prediction(from: providers[0]) }
        for _ in 0..<request.runs {
            t = DispatchTime.now()
            _ = try model.prediction(from: providers[0])
            result.samples_ms.append(elapsedMs(since: t))
        }
    }

    static func multiArray(_ file: URL, _ spec: InputSpec) throws -> MLMultiArray {
        let type: MLMultiArrayDataType = spec.dtype == "int32" ? .int32 : .float32
        let array = try MLMultiArray(shape: spec.shape.map { NSNumber(value: $0) }, dataType: type)
        let data = try Data(contentsOf: file)
        guard data.count == array.count * 4 else {
            throw ProfilerError.bad("input '\(spec.name)': \(data.count) bytes for \(array.count) values")
        }
        data.withUnsafeBytes { raw in array.dataPointer.copyMemory(from: raw.baseAddress!, byteCount: data.count) }
        return array
    }

    static func computeUnits(_ name: String) throws -> MLComputeUnits {
        switch name {
        case "CPU_AND_NE": return .cpuAndNeuralEngine
        case "ALL": return .all
        case "CPU_ONLY": return .cpuOnly
        case "CPU_AND_GPU": return .cpuAndGPU
        default: throw ProfilerError.bad("compute units '\(name)'")
        }
    }

    static func elapsedMs(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
    }

    static func deviceInfo() -> DeviceInfo {
        var system = utsname()
        uname(&system)
        let machine = withUnsafeBytes(of: &system.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let v = ProcessInfo.processInfo.operatingSystemVersion
        return DeviceInfo(model: machine, os_version: "\(v.majorVersion).\(v.minorVersion).\(v.patchVersion)")
    }
}
