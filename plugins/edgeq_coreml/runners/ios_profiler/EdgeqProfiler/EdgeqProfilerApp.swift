// EdgeqProfiler: the iOS app `edgeq profile --runner iphone` launches through
// `xcrun devicectl device process launch --console` (edgeq_coreml/runners/iphone.py).
// With `--edgeq-request PATH` it profiles the request once the app is up, writes the
// result into its Documents and exits, which ends the devicectl command. The work runs
// after launch, on a background queue: iOS ends an app that takes too long to launch.
import SwiftUI

@main
struct EdgeqProfilerApp: App {
    var body: some Scene {
        WindowGroup {
            Text("EdgeqProfiler: run by edgeq profile --runner iphone")
                .padding()
                .onAppear(perform: startIfRequested)
        }
    }

    private func startIfRequested() {
        let args = CommandLine.arguments
        guard let flag = args.firstIndex(of: "--edgeq-request"), flag + 1 < args.count else { return }
        let request = args[flag + 1]
        DispatchQueue.global(qos: .userInitiated).async {
            let status = Profiler.run(requestPath: request)
            exit(status)
        }
    }
}
