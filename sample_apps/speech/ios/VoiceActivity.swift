// Feeding the speech sample's model.mlpackage on iOS (Core ML) as edgeq calibrated it:
// 16 kHz mono float samples, "input" [32, 576] (32 frames of 512 new samples plus 64 of
// context), LSTM state "h"/"c" [1, 1, 128] carried from "hn"/"cn" between calls, zero at
// the start. "speech_probs" [32]: speech where >= 0.5. Documented, not compiled here.
import CoreML

final class VoiceActivity {
    private let model: MLModel
    private var h = try! MLMultiArray(shape: [1, 1, 128], dataType: .float32)
    private var c = try! MLMultiArray(shape: [1, 1, 128], dataType: .float32)

    init(model: MLModel) {
        self.model = model
        for i in 0..<128 { h[i] = 0; c[i] = 0 }
    }

    func speech(frames: MLMultiArray) throws -> [Bool] {       // frames: [32, 576] float32
        let out = try model.prediction(from: MLDictionaryFeatureProvider(
            dictionary: ["input": frames, "h": h, "c": c]))
        h = out.featureValue(for: "hn")!.multiArrayValue!
        c = out.featureValue(for: "cn")!.multiArrayValue!
        let probs = out.featureValue(for: "speech_probs")!.multiArrayValue!
        return (0..<32).map { probs[$0].floatValue >= 0.5 }
    }
}
