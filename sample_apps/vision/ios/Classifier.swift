// Loading and feeding the vision sample's model.mlpackage on iOS (Core ML, the `ane`
// target), with the preprocessing edgeq calibrated it with: shorter side to 256, centre
// crop 224x224, RGB, x/255, (x - mean) / std. The ML Program takes a float32 multiarray
// "input" [1, 3, 224, 224] (NCHW) and returns "logits" [1, 1000]. Documented, not compiled here.
import CoreML
import CoreGraphics

final class Classifier {
    private let model: MLModel
    private let mean: [Float] = [0.485, 0.456, 0.406]
    private let std: [Float] = [0.229, 0.224, 0.225]

    init() throws {
        let config = MLModelConfiguration()
        config.computeUnits = .cpuAndNeuralEngine           // W8A8 runs int8 on A17 Pro / M4
        let url = Bundle.main.url(forResource: "model", withExtension: "mlmodelc")!
        model = try MLModel(contentsOf: url, configuration: config)
    }

    /// `rgb`: 224x224 RGB bytes of the centre crop of the photo resized to shorter side 256.
    func classify(rgb: [UInt8]) throws -> MLMultiArray {
        let input = try MLMultiArray(shape: [1, 3, 224, 224], dataType: .float32)
        for c in 0..<3 {
            for i in 0..<(224 * 224) {
                input[c * 224 * 224 + i] = NSNumber(value: (Float(rgb[i * 3 + c]) / 255 - mean[c]) / std[c])
            }
        }
        let out = try model.prediction(from: MLDictionaryFeatureProvider(dictionary: ["input": input]))
        return out.featureValue(for: "logits")!.multiArrayValue!
    }
}
