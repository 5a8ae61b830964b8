// The catalog and the product pages, and the products as JSON. Archived products stay reachable by
// their page: old orders link to them.
import type { Hono } from 'hono';
import { DomainError } from '../../core/errors.ts';
import { CatalogPage, ProductPage } from '../pages/catalog.page.tsx';
import { getProduct, listProducts } from '../storage/catalog.ts';
import type { ShopDeps, ShopEnv } from './context.ts';
import { errorPage, pageCtx } from './helpers.tsx';

/** Mounts the catalog routes. */
export function catalogRoutes(app: Hono<ShopEnv>, deps: ShopDeps): void {
  const db = deps.database.db;

  app.get('/', async (c) => c.html(<CatalogPage ctx={await pageCtx(c, deps)} products={await listProducts(db)} />));

  app.get('/products/:id', async (c) => {
    const product = await getProduct(db, c.req.param('id'));
    if (!product) return errorPage(c, deps, new DomainError('not_found'));
    return c.html(<ProductPage ctx={await pageCtx(c, deps)} product={product} />);
  });

  app.get('/api/products', async (c) => {
    const products = await listProducts(db);
    return c.json({
      products: products.map((p) => ({
        id: p.id,
        name: p.name,
        description: p.description,
        price: { minor: p.price.minor.toString(), currency: p.price.currency },
      })),
    });
  });
}
