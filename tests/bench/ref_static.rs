//! Reference (a) for the load benchmark: the smallest axum server, one static page. Its throughput is the
//! HTTP ceiling of the machine the benchmark runs on. `cargo run --release --example ref_static -- ADDR`

use axum::Router;
use axum::response::Html;
use axum::routing::get;

const PAGE: &str = "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>问计</title></head>\
<body><h1>分析检查阶段征求意见表</h1><p>本表匿名填写，不需要留姓名。</p></body></html>";

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18081".into());
    let app = Router::new().route("/", get(|| async { Html(PAGE) }));
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("ref_static serving on {addr}");
    axum::serve(listener, app).await.expect("serve");
}
