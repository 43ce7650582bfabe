//! Bulk key operations in the portal: the preview of what will change (from the /keys
//! selection form, a plain GET), a confirm button, and the results page. No JavaScript needed.

use super::signed_in_user;
use crate::app::bulk_types::{BulkItemResult, BulkOperation};
use crate::app::components::PageHeader;
use crate::app::islands::bulk_progress::BulkProgress;
use crate::app::layout::Shell;
use crate::app::server_fns::key_bulk::{BulkApply, BulkForm, bulk_op_status, bulk_preview};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

fn results_table(items: Vec<BulkItemResult>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th scope="col">"Key"</th><th scope="col">"Name"</th><th scope="col">"Result"</th><th scope="col">"Change"</th></tr></thead>
                <tbody>
                    {items.into_iter().map(|r| {
                        let result = if r.ok {
                            view! { <span class="badge badge-green">"OK"</span> }.into_any()
                        } else {
                            view! { <span class="badge badge-red">{r.error_code.clone().unwrap_or_default()}</span> }.into_any()
                        };
                        view! {
                            <tr>
                                <td class="mono">{format!("#{}", r.id)}</td>
                                <td>{r.name.clone().unwrap_or_else(|| "—".into())}</td>
                                <td>{result}</td>
                                <td>{r.change.clone().unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn BulkPreviewPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let q = use_query_map().get_untracked();
    let form = BulkForm {
        action: q.get("action").unwrap_or_default(),
        ids: q.get_all("ids").unwrap_or_default().join(","),
        all: q.get("all").unwrap_or_default(),
        filter: q.get("filter").unwrap_or_default(),
        expires_at: q.get("expires_at").unwrap_or_default(),
        tags: q.get("tags").unwrap_or_default(),
    };
    let preview = Resource::new(
        {
            let f = form.clone();
            move || f.clone()
        },
        bulk_preview,
    );
    let apply = ServerAction::<BulkApply>::new();
    let subtitle = format!("Action: {}. Nothing has changed yet.", form.action);
    let back = format!("/keys?{}", form.filter);
    view! {
        <Title text="Bulk change: preview"/>
        <Shell user=Some(user)>
            <PageHeader title="Preview bulk change" subtitle=subtitle>
                <a class="btn btn-ghost" href=back>"Back to keys"</a>
            </PageHeader>
            <section class="card">
                <Suspense fallback=|| view! { <p class="muted">"Working out what will change…"</p> }>
                    {move || preview.get().map(|result| match result {
                        Ok(out) => {
                            let will = out.results.iter().filter(|r| r.ok).count();
                            let form = form.clone();
                            view! {
                                <p>{format!("{will} of {} key(s) will change.", out.results.len())}</p>
                                {results_table(out.results)}
                                {(will > 0).then(|| view! {
                                    <ActionForm action=apply attr:class="form">
                                        <input type="hidden" name="action" value=form.action.clone()/>
                                        <input type="hidden" name="ids" value=form.ids.clone()/>
                                        <input type="hidden" name="all" value=form.all.clone()/>
                                        <input type="hidden" name="filter" value=form.filter.clone()/>
                                        <input type="hidden" name="expires_at" value=form.expires_at.clone()/>
                                        <input type="hidden" name="tags" value=form.tags.clone()/>
                                        <button class="btn btn-danger" type="submit">{format!("Confirm: {} {will} key(s)", form.action)}</button>
                                    </ActionForm>
                                })}
                            }.into_any()
                        }
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
        </Shell>
    }
    .into_any()
}

fn progress(op: &BulkOperation) -> impl IntoView {
    view! {
        <BulkProgress id=op.id total=op.total done=op.done failed=op.failed status=op.status.clone()/>
    }
}

#[component]
pub fn BulkResultPage() -> impl IntoView {
    let Some(user) = signed_in_user() else {
        return ().into_any();
    };
    let id = use_params_map()
        .get_untracked()
        .get("id")
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(0);
    let op = Resource::new(move || id, bulk_op_status);
    view! {
        <Title text="Bulk change: results"/>
        <Shell user=Some(user)>
            <PageHeader title="Bulk change results" subtitle=format!("Operation #{id}")>
                <a class="btn btn-ghost" href="/keys">"Back to keys"</a>
            </PageHeader>
            <section class="card">
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || op.get().map(|result| match result {
                        Ok(op) => {
                            let running = op.status == "queued" || op.status == "running";
                            view! {
                                // The bar follows the job live; without JavaScript, a link reloads.
                                {running.then(|| view! {
                                    <p class="muted">"Running in the background: you may leave this page, the change goes on."</p>
                                    <noscript><a href=format!("/keys/bulk/{}", op.id)>"Reload to see progress"</a></noscript>
                                })}
                                {progress(&op)}
                                {op.results.clone().map(results_table)}
                            }.into_any()
                        }
                        Err(e) => view! { <div class="alert alert-error" role="alert">{e.detail}</div> }.into_any(),
                    })}
                </Suspense>
            </section>
        </Shell>
    }
    .into_any()
}
